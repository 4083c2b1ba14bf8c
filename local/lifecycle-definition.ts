import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The one lifecycle definition, deployed by CDK and run locally. */
export const LIFECYCLE_DEFINITION_PATH = join(__dirname, '..', 'statemachines', 'finding-lifecycle.asl.json');

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSecondsPath?: string;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export function readLifecycleDefinition(): AslDefinition {
  return JSON.parse(readFileSync(LIFECYCLE_DEFINITION_PATH, 'utf8')) as AslDefinition;
}

/**
 * The same definition as the local runner executes it. One adaptation: token waits lose
 * their `TimeoutSecondsPath` (and the Remediate task its `TimeoutSeconds`, which only guards
 * against a lost rotation execution on AWS; locally the rotation runs in-process, and
 * aws-local-stepfunctions' timer cannot hold 32 days). Locally a waiting lifecycle is parked in DynamoDB and its
 * timeouts are fired by `closeloop tick` at the hub's clock (resuming through `resumeAt`),
 * so the runner never waits on them. And aws-local-stepfunctions 3.0.0 evaluates that path
 * against the Parameters-applied input rather than the state input as Step Functions does,
 * which would reject a definition that is valid on AWS.
 */
export function forLocalRunner(definition: AslDefinition): AslDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      if (
        state.Type === 'Task' &&
        state.Resource?.endsWith('.waitForTaskToken') &&
        (state.TimeoutSecondsPath || state.TimeoutSeconds)
      ) {
        const { TimeoutSecondsPath: _path, TimeoutSeconds: _seconds, ...rest } = state;
        return [name, rest];
      }
      return [name, state];
    }),
  );
  return { ...definition, States: states };
}
