import validateAsl from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { recordStatesEntered } from '@local/lifecycle-runner';
import { readRotationDefinition } from '@local/rotation-runner';

/**
 * The routing contract of statemachines/secret-rotation.asl.json with scripted step outcomes:
 * each test names a rotation path and asserts the states it passes and what the lifecycle is
 * told. The steps themselves are tested against the Secrets Manager / IAM fakes.
 */
const DEFINITION = readRotationDefinition();
type Outcome = Record<string, unknown> | 'error';

async function run(script: Record<string, Outcome[]>, input: Record<string, unknown> = {}) {
  const calls: Record<string, number> = {};
  const inputs: Record<string, Record<string, unknown>> = {};
  const steps = Object.entries(DEFINITION.States).filter(([, s]) => s.Type === 'Task' && s.Resource === 'arn:aws:states:::lambda:invoke');
  const handler = (name: string) => async (parameters: { Payload: { state: Record<string, unknown> } }) => {
    const queue = script[name] ?? [{}];
    const outcome = queue[Math.min(calls[name] ?? 0, queue.length - 1)]!;
    calls[name] = (calls[name] ?? 0) + 1;
    inputs[name] = parameters.Payload.state;
    if (outcome === 'error') throw Object.assign(new Error('step failed'), { name: 'RotationStepError' });
    return { Payload: { ...parameters.Payload.state, ...outcome } };
  };
  const sent: unknown[] = [];
  const machine = new StateMachine(DEFINITION as never);
  const execution = machine.run({ findingId: 'NHI-0000000000000001', generation: 1, lifecycleTaskToken: 'token', ...input } as never, {
    overrides: {
      taskResourceLocalHandlers: {
        ...Object.fromEntries(steps.map(([name]) => [name, handler(name)])),
        SendOutcome: (async (p: { Output: string }) => {
          sent.push(JSON.parse(p.Output));
          return {};
        }) as never,
      },
      waitTimeOverrides: { WaitForRotation: 0, GracePeriod: 0, DeletionDelay: 0 },
      retryIntervalOverrides: Object.fromEntries(steps.map(([name]) => [name, 0])),
    },
  });
  const path: string[] = [];
  const logs = recordStatesEntered(execution.eventLogs, path);
  const ok = await execution.result.then(
    () => true,
    () => false,
  );
  await logs;
  return { path, sent, ok, inputs };
}

const ROTATE = { plan: { action: 'rotate_secret', reason: 'r', rotator: 'iam_access_key', secretArn: 'arn:s' } };
const DONE = { outcome: { remediation: 'done', reason: 'rotated' } };

describe('secret rotation definition', () => {
  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = validateAsl(DEFINITION);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('rotation of a leaked IAM key: contained first, polls until AWSPENDING clears, no grace period, deactivate, verify, evidence, resume the lifecycle, delete later', async () => {
    const { path, sent, ok } = await run({ Plan: [{ plan: { ...ROTATE.plan, containFirst: true }, graceSeconds: 0 }], CheckRotation: [{ progress: 'pending' }, { progress: 'succeeded' }], DeactivateOldKey: [{ oldKey: { userName: 'u', keyRef: 'k' } }], RecordEvidence: [DONE] });
    expect(ok).toBe(true);
    expect(path).toEqual(['Enter', 'Plan', 'Route', 'ContainExposedKey', 'StartRotation', 'WaitForRotation', 'CheckRotation', 'RotationProgress', 'WaitForRotation', 'CheckRotation', 'RotationProgress', 'IsAccessKeyRotation', 'DeactivateOldKey', 'Verify', 'RecordEvidence', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'DeletionDelay', 'DeleteOldKey', 'Done']);
    expect(sent).toEqual([DONE.outcome]);
  });

  it('an IAM key rotation with a grace period (never exposed) keeps the old key active for it', async () => {
    const { path } = await run({ Plan: [{ ...ROTATE, graceSeconds: 86400 }], CheckRotation: [{ progress: 'succeeded' }], RecordEvidence: [DONE] });
    expect(path.slice(7, 10)).toEqual(['IsAccessKeyRotation', 'GracePeriod', 'DeactivateOldKey']);
  });

  it('a retirement after a scheduled rotation waits the grace period, then deactivates, verifies and deletes', async () => {
    const { path } = await run({}, { mode: 'retire', graceSeconds: 86400, plan: ROTATE.plan, lifecycleTaskToken: undefined });
    expect(path.slice(0, 4)).toEqual(['Enter', 'GracePeriod', 'DeactivateOldKey', 'Verify']);
  });

  it('a containment that fails is named, and the lifecycle hears of it', async () => {
    const failed = { outcome: { remediation: 'failed', reason: 'x' } };
    const { path, inputs } = await run({ Plan: [{ plan: { ...ROTATE.plan, containFirst: true } }], ContainExposedKey: ['error'], RecordFailure: [failed] });
    expect(path.slice(3, 6)).toEqual(['ContainExposedKey', 'FailedAtContainExposedKey', 'RecordFailure']);
    expect(inputs.RecordFailure).toMatchObject({ failedStep: 'ContainExposedKey' });
  });

  it('rotation of a generated credential has no grace period or key to delete', async () => {
    const { path } = await run({ Plan: [{ plan: { ...ROTATE.plan, rotator: 'generated_credential' } }], CheckRotation: [{ progress: 'succeeded' }], RecordEvidence: [DONE] });
    expect(path.slice(7)).toEqual(['IsAccessKeyRotation', 'Verify', 'RecordEvidence', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'Done']);
  });

  it('rotation that fails in Secrets Manager or runs out of checks is recorded, then the lifecycle hears of it', async () => {
    const failed = { outcome: { remediation: 'failed', reason: 'x', failedStep: 'Secrets Manager testSecret' } };
    const { path, sent } = await run({ Plan: [ROTATE], CheckRotation: [{ progress: 'failed' }], RecordFailure: [failed] });
    expect(path.slice(5)).toEqual(['CheckRotation', 'RotationProgress', 'RecordFailure', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'Done']);
    expect(sent).toEqual([failed.outcome]);
    const timedOut = await run({ Plan: [ROTATE], CheckRotation: [{ progress: 'timed_out' }], RecordFailure: [failed] });
    expect(timedOut.path).toContain('RecordFailure');
  });

  it('a step that throws is caught, the state that failed is named for the escalation', async () => {
    const { path, inputs } = await run({ Plan: [ROTATE], CheckRotation: [{ progress: 'succeeded' }], DeactivateOldKey: ['error'], RecordFailure: [{ outcome: { remediation: 'failed', reason: 'x' } }] });
    expect(path.slice(-7)).toEqual(['DeactivateOldKey', 'FailedAtDeactivateOldKey', 'RecordFailure', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'Done']);
    expect(inputs.RecordFailure).toMatchObject({ failedStep: 'DeactivateOldKey', error: { Error: 'RotationStepError' } });
  });

  it('even when recording the failure fails, the lifecycle gets a failed outcome', async () => {
    const { sent } = await run({ Plan: [ROTATE], StartRotation: ['error'], RecordFailure: ['error'] });
    expect(sent).toEqual([{ remediation: 'failed', reason: expect.stringContaining('could not be recorded'), failedStep: 'RecordFailure' }]);
  });

  it('a plan with nothing to do, or one that needs an approver, goes straight back to the lifecycle', async () => {
    const outcome = { remediation: 'needs_approval', reason: 'deactivating needs an approver' };
    const { path, sent } = await run({ Plan: [{ plan: { action: 'needs_approval', reason: 'r' }, outcome }] });
    expect(path).toEqual(['Enter', 'Plan', 'Route', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'Done']);
    expect(sent).toEqual([outcome]);
  });

  it('containment of a leaked key resumes the lifecycle, then deletes the key later', async () => {
    const { path } = await run({ Plan: [{ plan: { action: 'contain_key', reason: 'r', userName: 'u' } }], ContainLeakedKey: [{ oldKey: { userName: 'u', keyRef: 'k' }, ...DONE }] });
    expect(path).toEqual(['Enter', 'Plan', 'Route', 'ContainLeakedKey', 'ResumeLifecycle', 'SendOutcome', 'AfterResume', 'DeletionDelay', 'DeleteOldKey', 'Done']);
  });

  it('a rotation without a lifecycle (a scheduled one) resumes nothing', async () => {
    const { path, sent } = await run({ Plan: [{ plan: { action: 'none', reason: 'r' }, outcome: { remediation: 'not_configured', reason: 'r' } }] }, { lifecycleTaskToken: undefined });
    expect(path).toEqual(['Enter', 'Plan', 'Route', 'ResumeLifecycle', 'AfterResume', 'Done']);
    expect(sent).toEqual([]);
  });
});
