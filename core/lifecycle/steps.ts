import type { AuditEventDraft } from '../audit/chain';
import type { Clock } from '../shared/clock';
import { FindingNotFoundError, RefusedError } from '../shared/errors';
import type { Finding, NhiType } from '../finding/model';
import { resolveOwner } from '../policy/ownership';
import type { OwnerDirectory, ResourceTags } from '../policy/ports';
import { dueDateFor, evidenceRequired, isPreAuthorized, type Policy } from '../policy/policy';
import type { FindingStore } from '../finding/ports';
import { executionName, type LifecycleState } from './state';
import { updateFinding } from '../finding/update';
import { DAY_MS } from '@core/shared/clock';

/** Everything a step needs; built once per Lambda environment or local hub. */
export interface LifecycleDeps {
  store: FindingStore;
  clock: Clock;
  policy: Policy;
  directory?: OwnerDirectory;
  tags?: ResourceTags;
}

export const STEP_NAMES = [
  'triage',
  'decide',
  'await_approval',
  'approval_timeout',
  'await_owner_fix',
  'sla_breach',
  'await_exception_approval',
  'accept_risk',
  'revalidate',
  'reopen',
  'verify',
  'resolve',
  'close_false_positive',
  'record_failure',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

const ACTOR = 'closeloop:lifecycle';
type EventDraft = Omit<AuditEventDraft, 'at'>;
/** Credential types an automated rotation can fix; the rest go to their owner. */
const ROTATABLE: ReadonlySet<NhiType> = new Set([
  'cloud_access_key',
  'api_key',
  'database_credential',
  'password',
  'oauth_token',
]);
/** Step Functions executions live at most a year; longer waits continue in a new execution. */
const MAX_WAIT_IN_ONE_EXECUTION_MS = 300 * DAY_MS;

const secondsUntil = (iso: string, now: Date) => Math.max(1, Math.ceil((Date.parse(iso) - now.getTime()) / 1000));

/** What one step gets: the execution's state, the deps, and (in a token wait) the task token. */
interface StepInput {
  state: LifecycleState;
  deps: LifecycleDeps;
  taskToken?: string;
}
type Step = (input: StepInput) => Promise<LifecycleState>;

/**
 * Runs one lifecycle step: the Task states of statemachines/finding-lifecycle.asl.json. The
 * same function serves the Lambda and the local runner. Waiting steps record the wait (and
 * the task token on AWS) and return; the execution then waits for a signal.
 */
export async function runStep(
  step: StepName,
  state: LifecycleState,
  deps: LifecycleDeps,
  taskToken?: string,
): Promise<LifecycleState> {
  return STEPS[step]({ state, deps, ...(taskToken ? { taskToken } : {}) });
}

/** Owner (CMDB → tags → mapping → unowned queue) and due date. */
const triage: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  const id = state.findingId;
  const before = await mustGet(store, id);
  const resolution = await resolveOwner(before.asset, {
    policy,
    ...(deps.directory ? { directory: deps.directory } : {}),
    ...(deps.tags ? { tags: deps.tags } : {}),
  });
  const finding = await updateFinding(store, clock, id, (f, at) => {
    const dueAt = dueDateFor(f.severity, new Date(at), policy).toISOString();
    const events: EventDraft[] = [
      {
        actor: ACTOR,
        action: 'owner.assigned',
        ...(f.owner ? { from: f.owner } : {}),
        to: resolution.owner,
        reason: `owner from ${resolution.via.replace('_', ' ')}`,
      },
      {
        actor: ACTOR,
        action: 'sla.started',
        to: dueAt,
        reason: `${f.severity}: ${policy.slaDays[f.severity]} days`,
        data: { dueAt },
      },
      ...(resolution.unresolved
        ? [
            {
              actor: ACTOR,
              action: 'owner.unresolved' as const,
              reason: `no owner in CMDB, tags or mappings; escalated to ${policy.escalationContact}`,
              data: { escalatedTo: policy.escalationContact },
            },
          ]
        : []),
    ];
    return {
      finding: {
        ...f,
        owner: resolution.owner,
        ownerVia: resolution.via,
        dueAt,
        lifecycle: { ...f.lifecycle, startedGeneration: state.generation, triagedGeneration: state.generation },
      },
      events,
    };
  });
  return {
    ...state,
    approvalTimeoutSeconds: policy.approvalTimeoutHours * 3600,
    ownerFixTimeoutSeconds: secondsUntil(finding.dueAt!, clock.now()),
  };
};

/** Pre-authorized remediation, approval, or owner fix, from policy. */
const decide: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  const f = await mustGet(store, state.findingId);
  const rotatable = ROTATABLE.has(f.nhiType);
  // The rotation machine's plan checks again which action it is (rotate a managed secret, or
  // deactivate an unmanaged leaked key) and asks for an approval when that one is not pre-authorized.
  const preAuthorized =
    isPreAuthorized('rotate', f, policy) ||
    (f.nhiType === 'cloud_access_key' && isPreAuthorized('deactivate_key', f, policy));
  const route = rotatable && preAuthorized ? 'auto_remediate' : rotatable ? 'approval' : 'owner_fix';
  const reason =
    route === 'auto_remediate'
      ? 'policy pre-authorizes rotation'
      : route === 'approval'
        ? `rotation needs a ${policy.approverRoles[f.severity]} approval`
        : `${f.nhiType.replace('_', ' ')} is fixed by its owner`;
  await updateFinding(store, clock, state.findingId, (current) => ({
    finding: current,
    events: [{ actor: ACTOR, action: 'decision.made', to: route, reason }],
  }));
  return { ...state, route };
};

const awaitApproval: Step = async ({ state, deps, taskToken }) => {
  const { store, clock, policy } = deps;
  const id = state.findingId;
  await updateFinding(store, clock, id, (f, at) => {
    const timerAt = new Date(Date.parse(at) + policy.approvalTimeoutHours * 3600 * 1000).toISOString();
    const already = f.lifecycle?.waitingAt === 'AwaitApproval';
    const lifecycle = {
      ...f.lifecycle!,
      waitingAt: 'AwaitApproval' as const,
      timerAt,
      timerKind: 'approval_timeout' as const,
      ...(taskToken ? { taskToken } : {}),
    };
    if (already) return { finding: { ...f, lifecycle }, events: [] };
    return {
      finding: { ...f, status: 'awaiting_approval', lifecycle },
      events: [
        {
          actor: ACTOR,
          action: 'approval.requested',
          from: f.status,
          to: 'awaiting_approval',
          reason: `rotation of ${id} awaits a ${policy.approverRoles[f.severity]}`,
          data: { requiredRole: policy.approverRoles[f.severity], timeoutAt: timerAt },
        },
      ],
    };
  });
  return state;
};

const approvalTimeout: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f) => ({
    finding: f,
    events: [
      {
        actor: ACTOR,
        action: 'approval.timed_out',
        reason: `no decision within ${policy.approvalTimeoutHours} hours; escalated to ${policy.escalationContact}`,
        data: { escalatedTo: policy.escalationContact },
      },
    ],
  }));
  return state;
};

const awaitOwnerFix: Step = async ({ state, deps, taskToken }) => {
  const { store, clock, policy } = deps;
  const f = await updateFinding(store, clock, state.findingId, (current, at) => {
    const overdue = !current.dueAt || Date.parse(current.dueAt) <= Date.parse(at);
    const timerAt = overdue
      ? new Date(Date.parse(at) + policy.escalationCadenceDays * DAY_MS).toISOString()
      : current.dueAt!;
    const status = current.status === 'reopened' ? 'reopened' : 'open';
    const lifecycle = {
      ...current.lifecycle!,
      waitingAt: 'AwaitOwnerFix' as const,
      timerAt,
      timerKind: 'sla_breach' as const,
      ...(taskToken ? { taskToken } : {}),
    };
    const entering = current.lifecycle?.waitingAt !== 'AwaitOwnerFix';
    return {
      finding: { ...current, status, lifecycle },
      events: entering
        ? [
            {
              actor: ACTOR,
              action: 'remediation.assigned',
              ...(current.status !== status ? { from: current.status } : {}),
              to: status,
              reason: `${current.owner ?? policy.unownedQueue} fixes it by ${current.dueAt ?? timerAt}`,
            },
          ]
        : [],
    };
  });
  return { ...state, ownerFixTimeoutSeconds: secondsUntil(f.lifecycle!.timerAt!, clock.now()) };
};

const slaBreach: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f, at) => {
    const first = !f.lifecycle?.lastEscalatedAt;
    return {
      finding: { ...f, lifecycle: { ...f.lifecycle!, lastEscalatedAt: at } },
      events: [
        {
          actor: ACTOR,
          action: first ? 'sla.breached' : 'sla.escalated',
          reason: `${f.severity} finding due ${f.dueAt} is overdue; escalated to ${policy.escalationContact}, again every ${policy.escalationCadenceDays} days`,
          data: { dueAt: f.dueAt, escalatedTo: policy.escalationContact, owner: f.owner },
        },
      ],
    };
  });
  return { ...state, ownerFixTimeoutSeconds: policy.escalationCadenceDays * 86400 };
};

const awaitExceptionApproval: Step = async ({ state, deps, taskToken }) => {
  const { store, clock } = deps;
  await updateFinding(store, clock, state.findingId, (f) => ({
    finding: {
      ...f,
      lifecycle: {
        ...f.lifecycle!,
        waitingAt: 'AwaitExceptionApproval',
        timerAt: undefined,
        timerKind: undefined,
        ...(taskToken ? { taskToken } : {}),
      },
    },
    events: [],
  }));
  return state;
};

/** Status risk_accepted until the exception ends; decides whether the wait needs a fresh execution. */
const acceptRisk: Step = async ({ state, deps }) => {
  const { store, clock } = deps;
  const id = state.findingId;
  const f = await updateFinding(store, clock, id, (current) => {
    if (!current.exception?.approvedBy) throw new RefusedError(`finding ${id} has no approved exception`);
    return {
      finding: {
        ...current,
        status: 'risk_accepted',
        lifecycle: {
          ...current.lifecycle!,
          waitingAt: 'ExceptionWait',
          timerAt: current.exception.until,
          timerKind: 'exception_expiry',
        },
      },
      events: [
        {
          actor: ACTOR,
          action: 'risk.accepted',
          from: current.status,
          to: 'risk_accepted',
          reason: `accepted until ${current.exception.until}; approved by ${current.exception.approvedBy}`,
        },
      ],
    };
  });
  const until = f.exception!.until;
  const continueAsNew = Date.parse(until) - clock.now().getTime() > MAX_WAIT_IN_ONE_EXECUTION_MS;
  return {
    ...state,
    expiresAt: until,
    continueAsNew,
    ...(continueAsNew
      ? { nextExecutionName: `${executionName(id, state.generation)}-x${Math.floor(Date.parse(until) / DAY_MS)}` }
      : {}),
  };
};

/** Exception expired: is the exposure still there? */
const revalidate: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  const f = await mustGet(store, state.findingId);
  const revoked =
    f.validity === 'inactive' || f.sources.every((s) => s.state === 'resolved') || hasClosingEvidence(f, policy);
  await updateFinding(store, clock, state.findingId, (current) => ({
    finding: current,
    events: [
      {
        actor: ACTOR,
        action: 'exception.expired',
        reason: revoked ? 'exception ended; the exposure is gone' : 'exception ended; the exposure is still there',
        data: { exposed: !revoked },
      },
    ],
  }));
  return { ...state, exposed: !revoked };
};

/** Still exposed after its exception: reopened with a new due date. */
const reopen: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f, at) => {
    const dueAt = dueDateFor(f.severity, new Date(at), policy).toISOString();
    return {
      finding: {
        ...f,
        status: 'reopened',
        dueAt,
        exception: undefined,
        ...(f.exception ? { expiredException: { ...f.exception, expiredAt: at } } : {}),
        lifecycle: {
          ...f.lifecycle!,
          waitingAt: undefined,
          timerAt: undefined,
          timerKind: undefined,
          lastEscalatedAt: undefined,
        },
      },
      events: [
        {
          actor: ACTOR,
          action: 'finding.reopened',
          from: f.status,
          to: 'reopened',
          reason: `exception expired while still exposed; new due date ${dueAt}`,
          data: { dueAt },
        },
      ],
    };
  });
  return state;
};

/** The evidence the policy requires for the finding's type, or back to the owner. */
const verify: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  const f = await mustGet(store, state.findingId);
  const verified = hasClosingEvidence(f, policy);
  const required = evidenceRequired(f.nhiType, policy);
  await updateFinding(store, clock, state.findingId, (current) => ({
    finding: { ...current, status: verified ? 'verifying' : current.status },
    events: [
      verified
        ? {
            actor: ACTOR,
            action: 'evidence.verified',
            reason: `closing evidence present (${required.join(' or ')})`,
          }
        : {
            actor: ACTOR,
            action: 'verification.failed',
            reason: `no closing evidence: needs one of ${required.join(', ')} (simulated records do not count); back to the owner`,
          },
    ],
  }));
  return { ...state, verified };
};

const resolve: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f, at) => {
    const proof = f.evidence.find((e) => !e.simulated && evidenceRequired(f.nhiType, policy).includes(e.kind));
    return {
      finding: { ...f, status: 'resolved', closedAt: at, lifecycle: ended(f) },
      events: [
        {
          actor: ACTOR,
          action: 'finding.resolved',
          from: f.status,
          to: 'resolved',
          reason: proof ? `closed on ${proof.kind.replace(/_/g, ' ')}` : 'exposure gone at revalidation',
          ...(proof ? { evidenceRef: proof.ref } : {}),
        },
      ],
    };
  });
  return state;
};

const closeFalsePositive: Step = async ({ state, deps }) => {
  const { store, clock } = deps;
  const signal = state.signal;
  await updateFinding(store, clock, state.findingId, (f, at) => ({
    finding: { ...f, status: 'false_positive', closedAt: at, lifecycle: ended(f) },
    events: [
      {
        actor: signal?.by ?? ACTOR,
        action: 'finding.false_positive',
        from: f.status,
        to: 'false_positive',
        reason: signal?.reason ?? 'approved as false positive',
      },
    ],
  }));
  return state;
};

/** Escalates a step that failed after retries, before the execution fails. */
const recordFailure: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f) => ({
    finding: f,
    events: [
      {
        actor: ACTOR,
        action: 'lifecycle.failed',
        reason: `a lifecycle step failed after retries (${state.error?.Error ?? 'unknown error'}); escalated to ${policy.escalationContact}`,
      },
    ],
  }));
  return state;
};

/** The step table: one function per Task state of the definition. */
const STEPS: Readonly<Record<StepName, Step>> = {
  triage,
  decide,
  await_approval: awaitApproval,
  approval_timeout: approvalTimeout,
  await_owner_fix: awaitOwnerFix,
  sla_breach: slaBreach,
  await_exception_approval: awaitExceptionApproval,
  accept_risk: acceptRisk,
  revalidate,
  reopen,
  verify,
  resolve,
  close_false_positive: closeFalsePositive,
  record_failure: recordFailure,
};

/** A finding's lifecycle once it has ended: no wait, no timer, no token. */
function ended(f: Finding): Finding['lifecycle'] {
  return { ...f.lifecycle!, waitingAt: undefined, timerAt: undefined, timerKind: undefined, taskToken: undefined };
}

async function mustGet(store: FindingStore, id: string): Promise<Finding> {
  const f = await store.get(id);
  if (!f) throw new FindingNotFoundError(id);
  return f;
}

function hasClosingEvidence(f: Finding, policy: Policy): boolean {
  const required = evidenceRequired(f.nhiType, policy);
  return f.evidence.some((e) => !e.simulated && required.includes(e.kind));
}
