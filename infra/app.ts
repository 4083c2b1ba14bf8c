import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CloseloopStack } from './closeloop-stack';

/** Context values arrive as strings from `-c key=value` and as objects from cdk.json. */
function parseContext(value: unknown) {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

const app = new App();
new CloseloopStack(app, app.node.tryGetContext('stackName') ?? 'Closeloop', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'closeloop: owned, deadlined, evidenced remediation of non-human-identity findings',
  // cdk deploy -c rotation='{"managedSecretArns":[…],"managedIamUserArns":[…],"containmentIamUserArns":[…]}'
  ...(app.node.tryGetContext('rotation') ? { rotation: parseContext(app.node.tryGetContext('rotation')) } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
