import validateAsl from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { forLocalRunner, readLifecycleDefinition } from '@local/lifecycle-definition';
import { recordStatesEntered } from '@local/lifecycle-runner';
import { WAIT_STATES } from '@core/finding/model';

/**
 * The routing contract of statemachines/finding-lifecycle.asl.json, run in the local runner
 * (aws-local-stepfunctions) with scripted step outcomes: each test names a lifecycle path and
 * asserts the states it passes through. The step handlers themselves are tested separately.
 */
const DEFINITION = readLifecycleDefinition();
const LOCAL = forLocalRunner(DEFINITION);

type Outcome = Record<string, unknown> | 'timeout' | 'error';
type Script = Record<string, Outcome[]>;

/** The Task states whose handler is a lifecycle step (lambda:invoke, with or without a token) or the rotation machine. */
const STEP_TASKS = Object.entries(DEFINITION.States as Record<string, { Type: string; Resource?: string }>)
  .filter(([, s]) => s.Type === 'Task' && (s.Resource?.startsWith('arn:aws:states:::lambda:invoke') || s.Resource === 'arn:aws:states:::states:startExecution.waitForTaskToken'))
  .map(([name]) => name);

async function run(script: Script, input: Record<string, unknown> = { resumeAt: 'triage' }) {
  const calls: Record<string, number> = {};
  const handler = (state: string) => async (parameters: { Payload: { state: Record<string, unknown> } }) => {
    const queue = script[state] ?? [{}];
    const outcome = queue[Math.min(calls[state] ?? 0, queue.length - 1)]!;
    calls[state] = (calls[state] ?? 0) + 1;
    if (outcome === 'timeout') throw Object.assign(new Error('task timed out'), { name: 'States.Timeout' });
    if (outcome === 'error') throw Object.assign(new Error('step failed'), { name: 'Lambda.Unknown' });
    // A waitForTaskToken result is the signal itself; a plain step returns the next state.
    return DEFINITION.States[state]!.Resource!.endsWith('.waitForTaskToken') ? outcome : { Payload: { ...parameters.Payload.state, ...outcome } };
  };
  const machine = new StateMachine(LOCAL as never);
  const execution = machine.run(
    { findingId: 'NHI-0000000000000001', generation: 1, ...input },
    {
      context: { Task: { Token: 'local-token' }, StateMachine: { Id: 'arn:aws:states:eu-west-1:123456789012:stateMachine:lifecycle' }, Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:lifecycle:test' } },
      overrides: {
        taskResourceLocalHandlers: { ...Object.fromEntries(STEP_TASKS.map((name) => [name, handler(name)])), ContinueAsNew: async () => ({}) },
        waitTimeOverrides: { ExceptionWait: 0 },
      },
    },
  );
  const path: string[] = [];
  const logs = recordStatesEntered(execution.eventLogs, path);
  const outcome = await execution.result.then(
    (result) => ({ ok: true as const, result }),
    (error: Error) => ({ ok: false as const, error }),
  );
  await logs;
  return { path, ...outcome };
}

describe('finding lifecycle definition', () => {
  it('waits without timeouts: escalations are timers the hub fires on the finding, so a wait never stops the SLA clock', () => {
    for (const wait of ['AwaitApproval', 'AwaitOwnerFix', 'AwaitExceptionApproval']) {
      expect(DEFINITION.States[wait]!.TimeoutSecondsPath).toBeUndefined();
      expect(JSON.stringify(DEFINITION.States[wait]!.Catch)).not.toContain('States.Timeout');
    }
    // Only the lost-rotation guard on Remediate has a timeout, which the local runner drops.
    expect(DEFINITION.States.Remediate!.TimeoutSeconds).toBe(2764800);
    expect(LOCAL.States.Remediate!.TimeoutSeconds).toBeUndefined();
    expect({ ...LOCAL.States.Triage }).toEqual({ ...DEFINITION.States.Triage });
  });

  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = validateAsl(DEFINITION);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('auto-remediation (happy path) takes at most 16 state transitions', async () => {
    const { path, ok } = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'done' }], Verify: [{ verified: true }] });
    expect(ok).toBe(true);
    expect(path).toEqual(['Enter', 'Triage', 'Route', 'Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'Resolve', 'Done']);
    expect(path.length).toBeLessThanOrEqual(16);
  });

  it('falls back to the owner when rotation is not configured', async () => {
    const { path } = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'not_configured' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('a remediation the plan found but the policy does not pre-authorize waits for approval, then remediates', async () => {
    const { path } = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'needs_approval', reason: 'deactivate_key not pre-authorized' }, { remediation: 'done' }], AwaitApproval: [{ decision: 'approved' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitApproval', 'ApprovalDecided', 'Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('a failed rotation, or a rotation execution lost without an answer, goes to the owner', async () => {
    const failed = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'failed', failedStep: 'Secrets Manager testSecret' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(failed.path.slice(3, 6)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitOwnerFix']);
    const lost = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: ['timeout'], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(lost.path.slice(3, 6)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitOwnerFix']);
    expect(lost.ok).toBe(true);
  });

  const needsApproval = { Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'needs_approval', reason: 'rotating app/ci needs approval by someone holding the security-lead role' }, { remediation: 'done' }] };

  it('approval rejected: goes to the owner-fix wait', async () => {
    const { path } = await run({ ...needsApproval, AwaitApproval: [{ decision: 'rejected', subject: 'remediation' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path.slice(3, 8)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitApproval', 'ApprovalDecided', 'AwaitOwnerFix']);
    expect(path.at(-1)).toBe('Done');
  });

  it('nothing can remediate it: straight to the owner, no approval asked', async () => {
    const { path } = await run({ Triage: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'not_configured', reason: 'rotation not configured for this credential' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path).not.toContain('AwaitApproval');
    expect(path.slice(3, 6)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitOwnerFix']);
  });

  it('an exception requested while the approval waits, approved by the approver instead: the risk is accepted', async () => {
    const { path } = await run({ ...needsApproval, AwaitApproval: [{ decision: 'approved', subject: 'exception' }], AcceptRisk: [{ expiresAt: '2027-01-30T00:00:00Z', continueAsNew: false }], Revalidate: [{ exposed: false }] });
    expect(path.slice(5, 10)).toEqual(['AwaitApproval', 'ApprovalDecided', 'AcceptRisk', 'WaitOrContinue', 'ExceptionWait']);
  });

  it('an exception requested while the approval waits, rejected: the remediation approval still waits', async () => {
    const { path } = await run({ ...needsApproval, AwaitApproval: [{ decision: 'rejected', subject: 'exception' }, { decision: 'approved', subject: 'remediation' }], Verify: [{ verified: true }] });
    expect(path.slice(5, 11)).toEqual(['AwaitApproval', 'ApprovalDecided', 'AwaitApproval', 'ApprovalDecided', 'Remediate', 'RemediationOutcome']);
    expect(path.at(-1)).toBe('Done');
  });

  it('the remediation rejected while an exception request waits: on to the exception decision', async () => {
    const { path } = await run({ ...needsApproval, AwaitApproval: [{ decision: 'rejected', subject: 'remediation', exceptionPending: true }], AwaitExceptionApproval: [{ decision: 'rejected' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path.slice(5, 10)).toEqual(['AwaitApproval', 'ApprovalDecided', 'AwaitExceptionApproval', 'ExceptionDecided', 'AwaitOwnerFix']);
  });

  it('owner fix with evidence: verified and resolved', async () => {
    const { path } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Route', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('done without evidence is bounced back to the owner', async () => {
    const { path } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }, { kind: 'fixed' }], Verify: [{ verified: false }, { verified: true }] });
    expect(path.slice(3)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('exception approved → expired → still exposed → reopened', async () => {
    const { path } = await run({
      Triage: [{ route: 'owner_fix' }],
      AwaitOwnerFix: [{ kind: 'exception_requested' }, { kind: 'fixed' }],
      AwaitExceptionApproval: [{ decision: 'approved' }],
      AcceptRisk: [{ expiresAt: '2027-01-30T00:00:00Z', continueAsNew: false }],
      Revalidate: [{ exposed: true }],
      Verify: [{ verified: true }],
    });
    expect(path.slice(3, 13)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'AwaitExceptionApproval', 'ExceptionDecided', 'AcceptRisk', 'WaitOrContinue', 'ExceptionWait', 'Revalidate', 'StillExposed', 'Reopen']);
    expect(path.slice(13)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('exception expired and the exposure is gone: resolved', async () => {
    const { path } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }], AwaitExceptionApproval: [{ decision: 'approved' }], AcceptRisk: [{ expiresAt: '2027-01-30T00:00:00Z', continueAsNew: false }], Revalidate: [{ exposed: false }] });
    expect(path.slice(-4)).toEqual(['Revalidate', 'StillExposed', 'Resolve', 'Done']);
  });

  it('names every state a lifecycle waits in as a WAIT_STATES entry, and each of them is a state of the definition', () => {
    const states = DEFINITION.States as Record<string, { Type: string; Resource?: string }>;
    for (const name of WAIT_STATES) expect(Object.keys(states)).toContain(name);
    const waits = Object.entries(states)
      .filter(([, s]) => s.Type === 'Wait' || (s.Type === 'Task' && s.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken'))
      .map(([name]) => name);
    expect([...WAIT_STATES].sort()).toEqual(waits.sort());
  });

  it('exception rejected: back to the owner', async () => {
    const { path } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }, { kind: 'fixed' }], AwaitExceptionApproval: [{ decision: 'rejected' }], Verify: [{ verified: true }] });
    expect(path.slice(5, 8)).toEqual(['AwaitExceptionApproval', 'ExceptionDecided', 'AwaitOwnerFix']);
  });

  it('an exception longer than one execution may live continues as a new execution', async () => {
    const { path, ok } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }], AwaitExceptionApproval: [{ decision: 'approved' }], AcceptRisk: [{ expiresAt: '2027-11-01T00:00:00Z', continueAsNew: true, nextExecutionName: 'NHI-0000000000000001-g1-c1' }] });
    expect(ok).toBe(true);
    expect(path.slice(-3)).toEqual(['WaitOrContinue', 'ContinueAsNew', 'Done']);
  });

  it('false positive approved: closed as false positive', async () => {
    const { path } = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'false_positive_approved' }] });
    expect(path.slice(-3)).toEqual(['OwnerSignal', 'CloseFalsePositive', 'Done']);
  });

  it('a step that keeps failing is recorded and fails the execution', async () => {
    const outcome = await run({ Triage: ['error'] });
    expect(outcome.ok).toBe(false);
    const failure = outcome.ok ? undefined : (outcome.error.cause as Error);
    expect(failure?.name).toBe('LifecycleFailed');
    const { path } = outcome;
    expect(path).toEqual(['Enter', 'Triage', 'RecordFailure', 'LifecycleFailed']);
  });

  it.each([
    ['approval_decided', { signal: { decision: 'approved' } }, 'ApprovalDecided'],
    ['owner_signal', { signal: { kind: 'fixed' } }, 'OwnerSignal'],
    ['exception_expired', {}, 'Revalidate'],
    ['verify', {}, 'Verify'],
  ])('re-enters at %s after a restart or continue-as-new', async (resumeAt, extra, firstPhase) => {
    const { path } = await run({ AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }], Remediate: [{ remediation: 'done' }], Revalidate: [{ exposed: false }] }, { resumeAt, ...extra });
    expect(path.slice(0, 2)).toEqual(['Enter', firstPhase]);
    expect(path).not.toContain('Triage');
  });

  it('decides in triage; a lifecycle resumed at decide (its hub stopped after triage) decides alone, then routes', async () => {
    const fresh = await run({ Triage: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(fresh.path.slice(0, 4)).toEqual(['Enter', 'Triage', 'Route', 'AwaitOwnerFix']);
    expect(fresh.path).not.toContain('Decide');
    const resumed = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] }, { resumeAt: 'decide' });
    expect(resumed.path.slice(0, 4)).toEqual(['Enter', 'Decide', 'Route', 'AwaitOwnerFix']);
    expect(resumed.path).not.toContain('Triage');
  });
});
