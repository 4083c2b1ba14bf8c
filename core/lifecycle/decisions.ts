import type { Clock } from '../shared/clock';
import { FindingNotFoundError, InputError, RefusedError } from '../shared/errors';
import type { Evidence, Finding, WaitState } from '../finding/model';
import { latestExceptionEnd, mayApprove, type Policy } from '../policy/policy';
import type { FindingStore } from '../finding/ports';
import type { ResumeAt, Signal } from './state';
import { redactText } from '../shared/redaction';
import { updateFinding } from '../finding/update';
import { parseFindingId } from '../finding/identity';
import type { LifecycleLauncher } from './ports';
import { startLifecycles } from './start';

/** The longest free text a person may attach to a decision (reasons, controls, notes, evidence references). */
export const MAX_TYPED_TEXT = 2000;

/**
 * Text a person typed, made safe to keep: trimmed, refused when empty or too long (naming the
 * field), and with credential-shaped substrings redacted. People paste keys into reasons; the
 * text goes to DynamoDB, the audit trail, tickets and (on AWS) the execution history, so it is
 * redacted here, once, before any of them sees it.
 */
export function typedText(field: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError(`${field} must not be empty`, { fields: [field] });
  if (trimmed.length > MAX_TYPED_TEXT)
    throw new InputError(`${field} is ${trimmed.length} characters long; at most ${MAX_TYPED_TEXT} are accepted`, {
      fields: [field],
    });
  return redactText(trimmed);
}

const optionalTypedText = (field: string, text: string | undefined) =>
  text === undefined ? undefined : typedText(field, text);

/**
 * Who took a decision: `by` is the principal the policy names; `identity`, when the caller came
 * through an authenticated edge (IAM, the IdP, a ticket webhook), is what authenticated them in
 * full, and the audit trail records it beside the name.
 */
export interface DecisionActor {
  by: string;
  identity?: string;
}

const identified = (input: DecisionActor) => (input.identity ? { actorIdentity: input.identity } : {});

/**
 * Resumes a waiting lifecycle: locally a new execution entering at `resumeAt`; on AWS
 * SendTaskSuccess with the wait's stored task token. Returns a one-line description.
 */
export interface LifecycleSignaller {
  signal(finding: Finding, resumeAt: ResumeAt, signal: Signal): Promise<string>;
}

export interface DecisionDeps {
  store: FindingStore;
  clock: Clock;
  policy: Policy;
  signaller: LifecycleSignaller;
  /** Starts the lifecycle of what a decision creates (a reopened finding's new generation) at once; else the sweep does. */
  launcher?: LifecycleLauncher;
}

/** The finding, if its lifecycle waits at one of `waits`; otherwise a refusal naming where it is. */
async function waitingFinding(
  store: FindingStore,
  id: string,
  waits: readonly WaitState[],
  what: string,
): Promise<Finding> {
  const findingId = parseFindingId(id);
  const finding = await store.get(findingId);
  if (!finding) throw new FindingNotFoundError(findingId);
  if (!finding.lifecycle?.waitingAt || !waits.includes(finding.lifecycle.waitingAt)) {
    throw new RefusedError(
      `${finding.id} is not ${what} (status ${finding.status}${finding.lifecycle?.waitingAt ? `, waiting at ${finding.lifecycle.waitingAt}` : ''})`,
    );
  }
  return finding;
}

/** An exception the owner asked for that waits for its decision. */
const pendingException = (f: Finding) => (f.exception && !f.exception.approvedBy ? f.exception : undefined);

/**
 * Approve or reject the remediation a finding waits for. When the owner asked for an exception
 * meanwhile, approving the remediation supersedes it (recorded as its rejection), and rejecting
 * the remediation leaves the exception to decide.
 */
export async function decideApproval(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; decision: 'approved' | 'rejected'; reason?: string },
): Promise<string> {
  const typedReason = optionalTypedText('reason', input.reason);
  const finding = await waitingFinding(deps.store, input.id, ['AwaitApproval'], 'awaiting approval');
  const verdict = mayApprove(
    { approver: input.by, requester: 'closeloop:lifecycle', finding, kind: 'approval' },
    deps.policy,
  );
  if (!verdict.allowed) throw new RefusedError(verdict.reason);
  let exceptionPending = false;
  await updateFinding(deps.store, deps.clock, finding.id, (f) => {
    const exception = pendingException(f);
    const supersedes = input.decision === 'approved' && exception !== undefined;
    exceptionPending = input.decision === 'rejected' && exception !== undefined;
    return {
      finding: supersedes ? { ...f, exception: undefined } : f,
      events: [
        {
          actor: input.by,
          ...identified(input),
          action: input.decision === 'approved' ? 'approval.granted' : 'approval.rejected',
          reason: typedReason ?? `remediation ${input.decision}`,
        },
        ...(supersedes
          ? [
              {
                actor: input.by,
                ...identified(input),
                action: 'exception.rejected' as const,
                reason: `superseded: ${input.by} approved the remediation instead`,
                data: { until: exception.until, requestedBy: exception.requestedBy },
              },
            ]
          : []),
      ],
    };
  });
  const described = await deps.signaller.signal(finding, 'approval_decided', {
    decision: input.decision,
    subject: 'remediation',
    by: input.by,
    ...(exceptionPending ? { exceptionPending: true } : {}),
    ...(typedReason ? { reason: typedReason } : {}),
  });
  return `${input.decision} by ${input.by}; ${described}`;
}

/** The owner asks to accept the risk until a date (at most the policy maximum for the severity). */
export async function requestException(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; until: Date; reason: string; compensatingControl?: string },
): Promise<string> {
  const reason = typedText('reason', input.reason);
  const compensatingControl = optionalTypedText('compensatingControl', input.compensatingControl);
  const finding = await waitingFinding(
    deps.store,
    input.id,
    ['AwaitOwnerFix', 'AwaitApproval', 'AwaitExceptionApproval'],
    'waiting for its owner or an approver',
  );
  if (finding.owner !== input.by)
    throw new RefusedError(`only the owner (${finding.owner}) can request an exception for ${finding.id}`);
  const pending = pendingException(finding);
  if (pending)
    throw new RefusedError(
      `${finding.id} already has an exception request until ${pending.until.slice(0, 10)} waiting for its decision`,
    );
  const now = deps.clock.now();
  if (input.until.getTime() <= now.getTime())
    throw new RefusedError(`until ${input.until.toISOString()} is not in the future (hub clock ${now.toISOString()})`, {
      fields: ['until'],
    });
  const latest = latestExceptionEnd(finding.severity, now, deps.policy);
  if (input.until.getTime() > latest.getTime()) {
    throw new RefusedError(
      `exception until ${input.until.toISOString().slice(0, 10)} exceeds the ${deps.policy.maxExceptionDays[finding.severity]}-day maximum for ${finding.severity} findings (latest ${latest.toISOString().slice(0, 10)})`,
    );
  }
  const until = input.until.toISOString();
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => ({
    finding: {
      ...f,
      exception: {
        requestedBy: input.by,
        requestedAt: at,
        until,
        reason,
        ...(compensatingControl ? { compensatingControl } : {}),
      },
    },
    events: [
      {
        actor: input.by,
        ...identified(input),
        action: 'exception.requested',
        reason,
        data: {
          until,
          requiredRole: deps.policy.approverRoles[finding.severity],
          ...(compensatingControl ? { compensatingControl } : {}),
        },
      },
    ],
  }));
  // While a remediation approval waits, the request joins it: the approver decides either.
  if (finding.lifecycle?.waitingAt === 'AwaitApproval')
    return `exception requested until ${until.slice(0, 10)}; ${finding.id}: waiting at AwaitApproval for a ${deps.policy.approverRoles[finding.severity]} to decide the remediation or this exception`;
  const described = await deps.signaller.signal(finding, 'owner_signal', { kind: 'exception_requested', by: input.by });
  return `exception requested until ${until.slice(0, 10)}; ${described}`;
}

/** Approve or reject a requested exception: never the requester, never the owner. */
export async function decideException(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; decision: 'approved' | 'rejected'; reason?: string },
): Promise<string> {
  const typedReason = optionalTypedText('reason', input.reason);
  const finding = await waitingFinding(
    deps.store,
    input.id,
    ['AwaitExceptionApproval', 'AwaitApproval'],
    'waiting for an exception decision',
  );
  const withApproval = finding.lifecycle?.waitingAt === 'AwaitApproval';
  if (withApproval && !pendingException(finding))
    throw new RefusedError(
      `${finding.id} is not waiting for an exception decision (status ${finding.status}, waiting at AwaitApproval for a remediation approval)`,
    );
  const requester = finding.exception?.requestedBy ?? '';
  const verdict = mayApprove({ approver: input.by, requester, finding, kind: 'exception' }, deps.policy);
  if (!verdict.allowed) throw new RefusedError(verdict.reason);
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => ({
    finding:
      input.decision === 'approved'
        ? { ...f, exception: { ...f.exception!, approvedBy: input.by, approvedAt: at } }
        : { ...f, exception: undefined },
    events: [
      {
        actor: input.by,
        ...identified(input),
        action: input.decision === 'approved' ? 'exception.approved' : 'exception.rejected',
        reason: typedReason ?? f.exception?.reason ?? input.decision,
        data: { until: f.exception?.until, requestedBy: requester },
      },
    ],
  }));
  // Decided while a remediation approval waits: that wait takes the decision (and waits on after a rejection).
  const described = withApproval
    ? await deps.signaller.signal(finding, 'approval_decided', {
        decision: input.decision,
        subject: 'exception',
        by: input.by,
      })
    : await deps.signaller.signal(finding, 'exception_decided', { decision: input.decision, by: input.by });
  return `exception ${input.decision} by ${input.by}; ${described}`;
}

/**
 * Someone (the owner, usually, in the ticket) says the finding is a false positive: the claim is
 * recorded and waits for an approver who is neither the claimant nor the owner. The lifecycle
 * keeps waiting for its owner meanwhile.
 */
export async function claimFalsePositive(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; reason: string },
): Promise<string> {
  const reason = typedText('reason', input.reason);
  const finding = await waitingFinding(deps.store, input.id, ['AwaitOwnerFix'], 'waiting for its owner');
  if (finding.falsePositiveClaim)
    throw new RefusedError(
      `${finding.id} already has a false-positive claim by ${finding.falsePositiveClaim.claimedBy}, waiting for a decision`,
    );
  const requiredRole = deps.policy.approverRoles[finding.severity];
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => ({
    finding: { ...f, falsePositiveClaim: { claimedBy: input.by, claimedAt: at, reason } },
    events: [
      { actor: input.by, ...identified(input), action: 'false_positive.claimed', reason, data: { requiredRole } },
    ],
  }));
  return `false positive claimed by ${input.by}; a ${requiredRole} decides`;
}

/** Reject a false-positive claim: the claim is dropped and the owner still fixes the finding. */
export async function rejectFalsePositive(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; reason?: string },
): Promise<string> {
  const typedReason = optionalTypedText('reason', input.reason);
  const finding = await waitingFinding(deps.store, input.id, ['AwaitOwnerFix'], 'waiting for its owner');
  const claim = finding.falsePositiveClaim;
  if (!claim) throw new RefusedError(`${finding.id} has no false-positive claim to reject`);
  const verdict = mayApprove(
    { approver: input.by, requester: claim.claimedBy, finding, kind: 'false_positive' },
    deps.policy,
  );
  if (!verdict.allowed) throw new RefusedError(verdict.reason);
  await updateFinding(deps.store, deps.clock, finding.id, (f) => ({
    finding: { ...f, falsePositiveClaim: undefined },
    events: [
      {
        actor: input.by,
        ...identified(input),
        action: 'false_positive.rejected',
        reason: typedReason ?? `the claim by ${claim.claimedBy} is rejected`,
        data: { claimedBy: claim.claimedBy },
      },
    ],
  }));
  return `false-positive claim rejected by ${input.by}`;
}

/**
 * Close as a false positive: an approver other than the owner, with a reason; when someone
 * claimed it, also other than the claimant.
 */
export async function markFalsePositive(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; reason: string },
): Promise<string> {
  const reason = typedText('reason', input.reason);
  const finding = await waitingFinding(deps.store, input.id, ['AwaitOwnerFix'], 'waiting for its owner');
  const verdict = mayApprove(
    {
      approver: input.by,
      requester: finding.falsePositiveClaim?.claimedBy ?? finding.owner ?? '',
      finding,
      kind: 'false_positive',
    },
    deps.policy,
  );
  if (!verdict.allowed) throw new RefusedError(verdict.reason);
  const described = await deps.signaller.signal(finding, 'owner_signal', {
    kind: 'false_positive_approved',
    by: input.by,
    ...(input.identity ? { identity: input.identity } : {}),
    reason,
  });
  return `false positive by ${input.by}; ${described}`;
}

/**
 * The owner reports the fix (the local tracker's "Done"; the ticket webhook does the same):
 * evidence is recorded, then the lifecycle verifies it. A resolution note alone closes only
 * the finding types whose policy accepts it; otherwise verification sends it back.
 */
export async function reportFixed(
  deps: DecisionDeps,
  input: DecisionActor & { id: string; note?: string; evidence?: { kind: Evidence['kind']; ref: string } },
): Promise<string> {
  if (!input.note && !input.evidence)
    throw new InputError('give note and/or evidence', { fields: ['note', 'evidence'] });
  const note = optionalTypedText('note', input.note);
  const evidence = input.evidence
    ? { kind: input.evidence.kind, ref: typedText('evidence.ref', input.evidence.ref) }
    : undefined;
  const finding = await waitingFinding(deps.store, input.id, ['AwaitOwnerFix'], 'waiting for its owner');
  if (finding.owner !== input.by)
    throw new RefusedError(`only the owner (${finding.owner}) can report ${finding.id} fixed`);
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => {
    const added: Evidence[] = [
      ...(note
        ? [
            {
              kind: 'ticket_resolution_note' as const,
              ref: `note:${note.slice(0, 200)}`,
              at,
              recordedBy: input.by,
              simulated: false,
            },
          ]
        : []),
      ...(evidence ? [{ kind: evidence.kind, ref: evidence.ref, at, recordedBy: input.by, simulated: false }] : []),
    ];
    return {
      finding: { ...f, evidence: [...f.evidence, ...added] },
      events: added.map((e) => ({
        actor: input.by,
        ...identified(input),
        action: 'evidence.recorded',
        reason: e.kind.replace(/_/g, ' '),
        evidenceRef: e.ref,
      })),
    };
  });
  const described = await deps.signaller.signal(finding, 'owner_signal', { kind: 'fixed', by: input.by });
  return `reported fixed by ${input.by}; ${described}`;
}

/**
 * A closed finding comes back (its ticket was reopened, or a regression): a new generation with
 * status `reopened`, its SLA clock restarted at the reopening. Its lifecycle starts at once when a
 * launcher is given (else the sweep starts it). An open finding stays as it is.
 */
export async function reopenFinding(
  deps: Pick<DecisionDeps, 'store' | 'clock' | 'launcher'>,
  input: DecisionActor & { id: string; reason: string },
): Promise<string> {
  const reason = typedText('reason', input.reason);
  let reopened = false;
  const f = await updateFinding(deps.store, deps.clock, input.id, (current, at) => {
    if (current.status !== 'resolved' && current.status !== 'false_positive') return undefined;
    reopened = true;
    return {
      finding: {
        ...current,
        status: 'reopened',
        generation: current.generation + 1,
        reopenedAt: at,
        dueAt: undefined,
        exception: undefined,
        falsePositiveClaim: undefined,
        lifecycle: { startedGeneration: current.lifecycle?.startedGeneration ?? current.generation },
      },
      events: [
        {
          actor: input.by,
          ...identified(input),
          action: 'finding.reopened',
          from: current.status,
          to: 'reopened',
          reason,
        },
      ],
    };
  });
  if (!reopened) return `${f.id} is ${f.status}: nothing to reopen`;
  if (deps.launcher) await startLifecycles(deps.launcher, [f]);
  return `${f.id} reopened (generation ${f.generation}); its lifecycle starts again`;
}
