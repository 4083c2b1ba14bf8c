import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createFinding } from '@core/finding/merge';
import { fixedClock } from '@core/shared/clock';
import { stepFunctionsLauncher } from '@connectors/aws/step-functions';
import { anObservation } from '@test/support/factories';
import { aMemoryStore } from '@test/support/memory-store';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:closeloop-finding-lifecycle';

function setup() {
  const finding = createFinding(anObservation(), new Date('2026-11-01T00:00:00Z'), 't').finding;
  const store = aMemoryStore([finding]);
  const launcher = stepFunctionsLauncher({
    sfn: new SFNClient({ region: 'eu-west-1' }),
    stateMachineArn: ARN,
    store,
    clock: fixedClock('2026-11-01T00:00:00Z'),
  });
  return { finding, store, launcher };
}

describe('the Step Functions lifecycle launcher', () => {
  it('starts an execution named by finding and generation at triage, then marks the generation started', async () => {
    const { finding, store, launcher } = setup();
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date() });
    expect(await launcher.start(finding)).toBe('started');
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: `${finding.id}-g1`,
      input: JSON.stringify({ findingId: finding.id, generation: 1, resumeAt: 'triage' }),
    });
    expect((await store.get(finding.id))!.lifecycle).toEqual({ startedGeneration: 1 });
    expect((await store.events(finding.id)).map((e) => e.action)).toEqual(['lifecycle.started']);
  });

  it('an execution that exists already (a crash before the mark) is not started again, and the mark is made', async () => {
    const { finding, store, launcher } = setup();
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await launcher.start(finding)).toBeUndefined();
    expect((await store.get(finding.id))!.lifecycle).toEqual({ startedGeneration: 1 });
  });
});
