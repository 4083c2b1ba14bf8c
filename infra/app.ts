import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CloseloopStack } from './closeloop-stack';

const app = new App();
new CloseloopStack(app, app.node.tryGetContext('stackName') ?? 'Closeloop', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'closeloop: owned, deadlined, evidenced remediation of non-human-identity findings',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
