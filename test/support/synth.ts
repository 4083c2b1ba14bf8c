import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';
import { closeloopApp } from '@infra/app';
import type { CloseloopStack } from '@infra/closeloop-stack';

export const ROOT = resolve(__dirname, '..', '..');

/** The context `cdk synth` starts from: cdk.json's feature flags. */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: object })
  .context as Record<string, unknown>;

export interface SynthOptions {
  /** The CLI's account and region (`CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`); none: environment-agnostic. */
  env?: { account?: string; region?: string };
  /** `-c key=value` pairs, e.g. `{ config: 'samples/closeloop.json' }`. */
  context?: Record<string, unknown>;
  /** Run esbuild for every function (slow: ~10 s on two cores). @default false: assets are not bundled */
  bundle?: boolean;
}

export interface Synthesized {
  app: App;
  stack: CloseloopStack;
  assembly: CloudAssembly;
  template: Template;
}

export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
  Mappings?: Record<string, unknown>;
}

/** Synthesizes the app the way `cdk synth` does (infra/app.ts, cdk.json's context, cdk-nag) into a fresh directory. */
export function synthesize(options: SynthOptions = {}): Synthesized {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'closeloop-synth-')),
    context: {
      ...CDK_JSON_CONTEXT,
      // Skipping bundling changes no resource, role or policy: only the function code becomes a placeholder.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const stack = closeloopApp(app, options.env ?? {});
  const assembly = app.synth();
  const template = JSON.parse(readFileSync(assembly.getStackByName(stack.stackName).templateFullPath, 'utf8'));
  return { app, stack, assembly, template };
}

/** cdk-nag AwsSolutions findings left unacknowledged (the validation report of the synth). */
export function unacknowledgedNagFindings(assembly: CloudAssembly): Array<{ rule: string; paths: string[] }> {
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{
      pluginName: string;
      violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
    }>;
  };
  return report.pluginReports
    .filter((p) => p.pluginName === 'AwsSolutions')
    .flatMap((p) => p.violations)
    .map((v) => ({ rule: v.ruleName, paths: v.violatingConstructs.map((c) => c.constructPath) }));
}

/** The wildcard resources of a policy, named as cdk-nag's AwsSolutions-IAM5 names them. */
function wildcardFindings(policy: CfnPolicy): string[] {
  const document = Stack.of(policy).resolve(policy.policyDocument) as {
    Statement?: Array<{ Effect: string; Resource: unknown }>;
  };
  return (document.Statement ?? [])
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => [s.Resource].flat())
    .map((r) => flattenCfnReference(r))
    .filter((r) => r.includes('*'))
    .map((r) => `AwsSolutions-IAM5[Resource::${r}]`);
}

/** The AWS managed policies of a role, named as cdk-nag's AwsSolutions-IAM4 names them. */
function managedPolicyFindings(role: CfnRole): string[] {
  const arns = (Stack.of(role).resolve(role.managedPolicyArns) ?? []) as unknown[];
  return arns
    .map((a) => flattenCfnReference(a))
    .filter((a) => a.includes(':iam::aws:'))
    .map((a) => `AwsSolutions-IAM4[Policy::${a}]`);
}

const ownAcknowledgements = (construct: IConstruct) =>
  construct.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.keys(m.data as Record<string, string>))
    .map((id) => id.replace(/^annotation::/i, ''));

/**
 * Acknowledgements of wildcard resources (AwsSolutions-IAM5) and managed policies (IAM4) that
 * name nothing the template has: on each construct that carries one, a policy or role below it
 * must grant that very resource or policy, as this stack renders it.
 */
export function staleIamAcknowledgements(stack: Stack): Array<{ path: string; id: string }> {
  const stale: Array<{ path: string; id: string }> = [];
  for (const construct of stack.node.findAll()) {
    const acks = ownAcknowledgements(construct).filter((id) => /^AwsSolutions-IAM(5\[Resource|4\[Policy)::/.test(id));
    if (acks.length === 0) continue;
    const granted = new Set(
      construct.node
        .findAll()
        .flatMap((c) =>
          c instanceof CfnPolicy ? wildcardFindings(c) : c instanceof CfnRole ? managedPolicyFindings(c) : [],
        ),
    );
    for (const id of acks) if (!granted.has(id)) stale.push({ path: construct.node.path, id });
  }
  return stale;
}

/** Every CloudFormation resource of a type, with its construct path. */
export function resourcesOfType(stack: Stack, type: string): CfnResource[] {
  return stack.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === type);
}
