import { SFNClient } from '@aws-sdk/client-sfn';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '@core/policy/policy';
import { lambdaRuntime } from './runtime';

/** The policy the stack passes as JSON in CLOSELOOP_POLICY (defaults when unset). */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): Policy {
  const text = env.CLOSELOOP_POLICY?.trim();
  return text ? parsePolicy(JSON.parse(text), 'CLOSELOOP_POLICY') : DEFAULT_POLICY;
}

/** Store, clock and policy for the lifecycle Lambdas (no deployment key needed: they never see secrets). */
export function lifecycleRuntime(env: NodeJS.ProcessEnv = process.env) {
  const { store, clock } = lambdaRuntime({ CLOSELOOP_DEPLOYMENT_KEY_SECRET: 'unused', ...env });
  return { store, clock, policy: policyFromEnv(env), sfn: new SFNClient({}) };
}
