import { Stack, Validations } from 'aws-cdk-lib';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
// cdk-nag's own formatter for the values its IAM rules name (not re-exported at the package root).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/**
 * A value as cdk-nag names it in a finding for this stack: tokens resolved the way the template
 * renders them. The same ARN is `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:…` in an
 * environment-agnostic stack and `arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:…`
 * in a concrete one, so acknowledgements are computed from the value the policy uses, never
 * written out by hand.
 */
export function nagName(scope: IConstruct, value: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(value));
}

/** Acknowledges AwsSolutions-IAM5 for exactly these wildcard resources of `scope`'s policies. */
export function acknowledgeWildcardResources(scope: IConstruct, resources: readonly string[], reason: string): void {
  for (const name of new Set(resources.map((r) => nagName(scope, r))))
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${name}]`, reason });
}

/** Acknowledges AwsSolutions-IAM4 for one AWS managed policy (e.g. `service-role/AWSLambdaBasicExecutionRole`). */
export function acknowledgeAwsManagedPolicy(scope: IConstruct, policyName: string, reason: string): void {
  const arn = ManagedPolicy.fromAwsManagedPolicyName(policyName).managedPolicyArn;
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM4[Policy::${nagName(scope, arn)}]`, reason });
}
