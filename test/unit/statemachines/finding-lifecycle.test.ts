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
    { findingId: 'NHI-0000000000000001', generation: 1, approvalTimeoutSeconds: 259200, ownerFixTimeoutSeconds: 172800, ...input },
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
  it('keeps its timeouts for Step Functions; only the local runner drops them from token waits', () => {
    expect(DEFINITION.States.AwaitApproval!.TimeoutSecondsPath).toBe('$.approvalTimeoutSeconds');
    expect(DEFINITION.States.AwaitOwnerFix!.TimeoutSecondsPath).toBe('$.ownerFixTimeoutSeconds');
    expect(LOCAL.States.AwaitApproval!.TimeoutSecondsPath).toBeUndefined();
    expect({ ...LOCAL.States.Triage }).toEqual({ ...DEFINITION.States.Triage });
  });

  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = validateAsl(DEFINITION);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('auto-remediation (happy path) takes at most 16 state transitions', async () => {
    const { path, ok } = await run({ Decide: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'done' }], Verify: [{ verified: true }] });
    expect(ok).toBe(true);
    expect(path).toEqual(['Enter', 'Triage', 'Decide', 'Route', 'Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'Resolve', 'Done']);
    expect(path.length).toBeLessThanOrEqual(16);
  });

  it('falls back to the owner when rotation is not configured', async () => {
    const { path } = await run({ Decide: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'not_configured' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Decide', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('approval approved: remediates, verifies, resolves', async () => {
    const { path } = await run({ Decide: [{ route: 'approval' }], AwaitApproval: [{ decision: 'approved' }], Remediate: [{ remediation: 'done' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Decide', 'Route', 'AwaitApproval', 'ApprovalDecided', 'Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('a rotation plan that needs an approver (e.g. containing an unmanaged key) waits for approval, then remediates', async () => {
    const { path } = await run({ Decide: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'needs_approval', reason: 'deactivate_key not pre-authorized' }, { remediation: 'done' }], AwaitApproval: [{ decision: 'approved' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Decide', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitApproval', 'ApprovalDecided', 'Remediate', 'RemediationOutcome', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('a failed rotation, or a rotation execution lost without an answer, goes to the owner', async () => {
    const failed = await run({ Decide: [{ route: 'auto_remediate' }], Remediate: [{ remediation: 'failed', failedStep: 'Secrets Manager testSecret' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(failed.path.slice(4, 7)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitOwnerFix']);
    const lost = await run({ Decide: [{ route: 'auto_remediate' }], Remediate: ['timeout'], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(lost.path.slice(4, 7)).toEqual(['Remediate', 'RemediationOutcome', 'AwaitOwnerFix']);
    expect(lost.ok).toBe(true);
  });

  it('approval rejected: goes to the owner-fix wait', async () => {
    const { path } = await run({ Decide: [{ route: 'approval' }], AwaitApproval: [{ decision: 'rejected' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path.slice(4, 7)).toEqual(['AwaitApproval', 'ApprovalDecided', 'AwaitOwnerFix']);
    expect(path.at(-1)).toBe('Done');
  });

  it('approval timed out: escalates and keeps waiting', async () => {
    const { path } = await run({ Decide: [{ route: 'approval' }], AwaitApproval: ['timeout', { decision: 'approved' }], Remediate: [{ remediation: 'done' }], Verify: [{ verified: true }] });
    expect(path.slice(4, 8)).toEqual(['AwaitApproval', 'ApprovalTimedOut', 'AwaitApproval', 'ApprovalDecided']);
  });

  it('owner fix with evidence: verified and resolved', async () => {
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path).toEqual(['Enter', 'Triage', 'Decide', 'Route', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('done without evidence is bounced back to the owner', async () => {
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'fixed' }, { kind: 'fixed' }], Verify: [{ verified: false }, { verified: true }] });
    expect(path.slice(4)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('SLA breach: escalates at the due date and waits again', async () => {
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: ['timeout', 'timeout', { kind: 'fixed' }], Verify: [{ verified: true }] });
    expect(path.slice(4, 10)).toEqual(['AwaitOwnerFix', 'EscalateOverdue', 'AwaitOwnerFix', 'EscalateOverdue', 'AwaitOwnerFix', 'OwnerSignal']);
  });

  it('exception approved → expired → still exposed → reopened', async () => {
    const { path } = await run({
      Decide: [{ route: 'owner_fix' }],
      AwaitOwnerFix: [{ kind: 'exception_requested' }, { kind: 'fixed' }],
      AwaitExceptionApproval: [{ decision: 'approved' }],
      AcceptRisk: [{ expiresAt: '2027-01-30T00:00:00Z', continueAsNew: false }],
      Revalidate: [{ exposed: true }],
      Verify: [{ verified: true }],
    });
    expect(path.slice(4, 14)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'AwaitExceptionApproval', 'ExceptionDecided', 'AcceptRisk', 'WaitOrContinue', 'ExceptionWait', 'Revalidate', 'StillExposed', 'Reopen']);
    expect(path.slice(14)).toEqual(['AwaitOwnerFix', 'OwnerSignal', 'Verify', 'Verified', 'Resolve', 'Done']);
  });

  it('exception expired and the exposure is gone: resolved', async () => {
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }], AwaitExceptionApproval: [{ decision: 'approved' }], AcceptRisk: [{ expiresAt: '2027-01-30T00:00:00Z', continueAsNew: false }], Revalidate: [{ exposed: false }] });
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
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }, { kind: 'fixed' }], AwaitExceptionApproval: [{ decision: 'rejected' }], Verify: [{ verified: true }] });
    expect(path.slice(6, 9)).toEqual(['AwaitExceptionApproval', 'ExceptionDecided', 'AwaitOwnerFix']);
  });

  it('an exception longer than one execution may live continues as a new execution', async () => {
    const { path, ok } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'exception_requested' }], AwaitExceptionApproval: [{ decision: 'approved' }], AcceptRisk: [{ expiresAt: '2027-11-01T00:00:00Z', continueAsNew: true, nextExecutionName: 'NHI-0000000000000001-g1-c1' }] });
    expect(ok).toBe(true);
    expect(path.slice(-3)).toEqual(['WaitOrContinue', 'ContinueAsNew', 'Done']);
  });

  it('false positive approved: closed as false positive', async () => {
    const { path } = await run({ Decide: [{ route: 'owner_fix' }], AwaitOwnerFix: [{ kind: 'false_positive_approved' }] });
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
    ['sla_breached', {}, 'EscalateOverdue'],
    ['approval_timed_out', {}, 'ApprovalTimedOut'],
    ['exception_expired', {}, 'Revalidate'],
    ['verify', {}, 'Verify'],
  ])('re-enters at %s after a restart or continue-as-new', async (resumeAt, extra, firstPhase) => {
    const { path } = await run({ AwaitOwnerFix: [{ kind: 'fixed' }], Verify: [{ verified: true }], Remediate: [{ remediation: 'done' }], Revalidate: [{ exposed: false }] }, { resumeAt, ...extra });
    expect(path.slice(0, 2)).toEqual(['Enter', firstPhase]);
    expect(path).not.toContain('Triage');
  });
});
