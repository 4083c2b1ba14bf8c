import type { AuditEventDraft } from '../audit/chain';
import type { Clock } from '../shared/clock';
import { CloseloopError, FindingNotFoundError, RefusedError } from '../shared/errors';
import type { Finding, Lifecycle, NhiType, WaitState } from '../finding/model';
import { resolveOwner } from '../policy/ownership';
import type { OwnerDirectory, ResourceTags } from '../policy/ports';
import { dueDateFor, evidenceRequired, type Policy } from '../policy/policy';
import type { FindingStore } from '../finding/ports';
import { executionName, type LifecycleState } from './state';
import { updateFinding } from '../finding/update';
import { DAY_MS } from '@core/shared/clock';
import { dueDateOf, escalate, slaStart } from './timers';

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
  'await_owner_fix',
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
/**
 * Credential types an automated remediation may fix: the rotation machine plans it first (which
 * managed secret or IAM key holds it, and whether the policy pre-authorizes that action), and an
 * approval is asked only for an action that can run. The rest go to their owner at once.
 */
const REMEDIABLE: ReadonlySet<NhiType> = new Set([
  'cloud_access_key',
  'api_key',
  'database_credential',
  'password',
  'oauth_token',
]);
/** Step Functions executions live at most a year; longer waits continue in a new execution. */
const MAX_WAIT_IN_ONE_EXECUTION_MS = 300 * DAY_MS;
const HOUR_MS = 3600 * 1000;

/** What one step gets: the execution's state, the deps, and (in a token wait) the task token. */
interface StepInput {
  state: LifecycleState;
  deps: LifecycleDeps;
  taskToken?: string;
  claimStart?: boolean;
}

/**
 * How a runner runs a step. `claimStart` (the local runner's start): the triage is also the claim of
 * the start, in the same guarded write; when another runner has claimed this generation already,
 * triage writes nothing and throws StartClaimedElsewhere.
 */
export interface StepOptions {
  taskToken?: string;
  claimStart?: boolean;
}

/** A local start lost its claim: another runner started this generation first. Nothing was written. */
export class StartClaimedElsewhere extends CloseloopError {
  constructor(findingId: string, generation: number, options?: ErrorOptions) {
    super(`the lifecycle of ${findingId} generation ${generation} was started by another runner`, options);
    this.name = 'StartClaimedElsewhere';
  }
}
type Step = (input: StepInput) => Promise<LifecycleState>;

/**
 * Runs one lifecycle step: the Task states of statemachines/finding-lifecycle.asl.json. The
 * same function serves the Lambda and the local runner. Waiting steps record the wait (and
 * the task token on AWS) and return; the execution then waits for a signal. Timers (SLA and
 * approval escalations, exception ends) are kept on the finding and fired by the hub's sweep
 * (core/lifecycle/timers.ts), so the deadline runs in every wait, whatever the execution does.
 */
export async function runStep(
  step: StepName,
  state: LifecycleState,
  deps: LifecycleDeps,
  options: StepOptions = {},
): Promise<LifecycleState> {
  return STEPS[step]({
    state,
    deps,
    ...(options.taskToken ? { taskToken: options.taskToken } : {}),
    ...(options.claimStart ? { claimStart: true } : {}),
  });
}

/** Decide's route: a remediable credential goes to the rotation machine's plan; anything else to its owner. */
function routeOf(f: Finding): { route: 'auto_remediate' | 'owner_fix'; event: EventDraft } {
  const route = REMEDIABLE.has(f.nhiType) ? 'auto_remediate' : 'owner_fix';
  const reason =
    route === 'auto_remediate'
      ? `plan a remediation: which managed secret or IAM key holds this ${f.nhiType.replace(/_/g, ' ')}, and whether the policy pre-authorizes that action`
      : `${f.nhiType.replace(/_/g, ' ')} is fixed by its owner`;
  return { route, event: { actor: ACTOR, action: 'decision.made', to: route, reason } };
}

/**
 * Owner (CMDB → tags → mapping → unowned queue), due date and route, in one write: the SLA counts
 * from the hub's first sight of the finding (or its reopening), not from triage, so a late triage
 * is overdue at once. The route (Decide's) is part of it, so a new finding costs one write before
 * its plan or its owner's wait. A generation nobody marked started yet (a local start, or a Step
 * Functions execution that ran before its starter's mark) is marked here, in the same write.
 */
const triage: Step = async ({ state, deps, claimStart }) => {
  const { store, clock, policy } = deps;
  const id = state.findingId;
  const before = await mustGet(store, id);
  if (claimStart && (before.lifecycle?.startedGeneration ?? 0) >= state.generation)
    throw new StartClaimedElsewhere(id, state.generation);
  const resolution = await resolveOwner(before.asset, {
    policy,
    ...(deps.directory ? { directory: deps.directory } : {}),
    ...(deps.tags ? { tags: deps.tags } : {}),
  });
  let route: 'auto_remediate' | 'owner_fix' = 'owner_fix';
  await updateFinding(
    store,
    clock,
    id,
    (f, at) => {
      const starting = (f.lifecycle?.startedGeneration ?? 0) < state.generation;
      if (claimStart && !starting) throw new StartClaimedElsewhere(id, state.generation);
      const dueAt = dueDateOf(f, policy);
      const decided = routeOf(f);
      route = decided.route;
      const events: EventDraft[] = [
        ...(starting
          ? [{ actor: ACTOR, action: 'lifecycle.started' as const, reason: `generation ${state.generation}` }]
          : []),
        {
          actor: ACTOR,
          action: 'owner.assigned',
          ...(f.owner ? { from: f.owner } : {}),
          to: resolution.owner,
          reason: `owner from ${resolution.via.replace('_', ' ')}${resolution.tagProblem ? ` (the owner tag could not be read: ${resolution.tagProblem})` : ''}`,
          ...(resolution.tagProblem ? { data: { ownerTagProblem: resolution.tagProblem } } : {}),
        },
        {
          actor: ACTOR,
          action: 'sla.started',
          to: dueAt,
          reason: `${f.severity}: ${policy.slaDays[f.severity]} days from ${f.reopenedAt ? 'its reopening' : 'first seen'} ${slaStart(f)}`,
          data: { dueAt, from: slaStart(f) },
        },
        ...(resolution.unresolved
          ? [
              {
                actor: ACTOR,
                action: 'owner.unresolved' as const,
                reason: resolution.tagProblem
                  ? `no owner in CMDB or mappings, and the owner tag could not be read (${resolution.tagProblem}); escalated to ${policy.escalationContact}`
                  : `no owner in CMDB, tags or mappings; escalated to ${policy.escalationContact}`,
                data: {
                  escalatedTo: policy.escalationContact,
                  ...(resolution.tagProblem ? { ownerTagProblem: resolution.tagProblem } : {}),
                },
              },
            ]
          : []),
      ];
      // A generation's first write starts its lifecycle afresh (what a previous generation waited for is gone).
      const lifecycle: Lifecycle = starting
        ? {
            startedGeneration: state.generation,
            // Wall clock, like leases: how long a local start has been in flight (stalled-run recovery).
            ...(claimStart ? { claimedAt: new Date().toISOString() } : {}),
            triagedGeneration: state.generation,
          }
        : {
            ...f.lifecycle,
            startedGeneration: state.generation,
            triagedGeneration: state.generation,
            lastEscalatedAt: undefined,
          };
      const { ownerTagProblem: _previous, ...rest } = f;
      const triaged: Finding = {
        ...rest,
        owner: resolution.owner,
        ownerVia: resolution.via,
        ...(resolution.tagProblem ? { ownerTagProblem: resolution.tagProblem } : {}),
        dueAt,
        lifecycle,
      };
      // Overdue already (a lifecycle that started late): the breach is recorded now, before the route.
      const escalated = escalate(triaged, at, policy);
      return { finding: escalated.finding, events: [...events, ...escalated.events, decided.event] };
    },
    { current: before },
  );
  return { ...state, route };
};

/** Decide alone: where a lifecycle resumes after its hub stopped between triage and its first wait. */
const decide: Step = async ({ state, deps }) => {
  const { store, clock } = deps;
  const f = await mustGet(store, state.findingId);
  const { route, event } = routeOf(f);
  await updateFinding(store, clock, state.findingId, (current) => ({ finding: current, events: [event] }), {
    current: f,
  });
  return { ...state, route };
};

/**
 * The finding's lifecycle as it enters `wait`: the wait, the task token (AWS), and its next timer;
 * whatever is already due fires now. An approver's wait escalates `approvalTimeoutHours` after it
 * was first asked for (a remediation approval turning into an exception decision keeps its clock).
 */
function enterWait(
  f: Finding,
  wait: WaitState,
  at: string,
  policy: Policy,
  taskToken: string | undefined,
): { finding: Finding; events: EventDraft[]; entering: boolean } {
  const from = f.lifecycle?.waitingAt;
  const asksApprover = wait === 'AwaitApproval' || wait === 'AwaitExceptionApproval';
  const keepsApprovalClock =
    asksApprover && (from === wait || (from === 'AwaitApproval' && wait === 'AwaitExceptionApproval'));
  const lifecycle: Lifecycle = {
    ...f.lifecycle!,
    waitingAt: wait,
    approvalDueAt: !asksApprover
      ? undefined
      : keepsApprovalClock && f.lifecycle?.approvalDueAt
        ? f.lifecycle.approvalDueAt
        : new Date(Date.parse(at) + policy.approvalTimeoutHours * HOUR_MS).toISOString(),
    ...(taskToken ? { taskToken } : {}),
  };
  const { finding, events } = escalate({ ...f, lifecycle }, at, policy);
  return { finding, events, entering: from !== wait };
}

/** Waits for an approver to decide the remediation the plan found (and, meanwhile, any exception the owner asks for). */
const awaitApproval: Step = async ({ state, deps, taskToken }) => {
  const { store, clock, policy } = deps;
  const id = state.findingId;
  await updateFinding(store, clock, id, (f, at) => {
    const waiting = enterWait({ ...f, status: 'awaiting_approval' }, 'AwaitApproval', at, policy, taskToken);
    const role = policy.approverRoles[f.severity];
    const what =
      state.rotation?.reason ?? `the remediation of ${id} needs approval by someone holding the ${role} role`;
    return {
      finding: waiting.finding,
      events: [
        ...(waiting.entering
          ? [
              {
                actor: ACTOR,
                action: 'approval.requested' as const,
                from: f.status,
                to: 'awaiting_approval',
                reason: `${what}; the owner may request an exception meanwhile`,
                data: { requiredRole: role, timeoutAt: waiting.finding.lifecycle!.approvalDueAt },
              },
            ]
          : []),
        ...waiting.events,
      ],
    };
  });
  return state;
};

/** Waits for the owner's fix (ticket, CLI, API, clean re-scan), an exception request or a false-positive approval. */
const awaitOwnerFix: Step = async ({ state, deps, taskToken }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (current, at) => {
    const status = current.status === 'reopened' ? 'reopened' : 'open';
    const waiting = enterWait({ ...current, status }, 'AwaitOwnerFix', at, policy, taskToken);
    const why = state.rotation?.remediation === 'not_configured' ? ` (${state.rotation.reason})` : '';
    return {
      finding: waiting.finding,
      events: [
        ...(waiting.entering
          ? [
              {
                actor: ACTOR,
                action: 'remediation.assigned' as const,
                ...(current.status !== status ? { from: current.status } : {}),
                to: status,
                reason: `${current.owner ?? policy.unownedQueue} fixes it by ${current.dueAt}${why}`,
              },
            ]
          : []),
        ...waiting.events,
      ],
    };
  });
  return state;
};

/** An approver who is neither the requester nor the owner decides the exception; the SLA keeps running. */
const awaitExceptionApproval: Step = async ({ state, deps, taskToken }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f, at) => {
    const waiting = enterWait(f, 'AwaitExceptionApproval', at, policy, taskToken);
    return { finding: waiting.finding, events: waiting.events };
  });
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
          approvalDueAt: undefined,
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

/** Still exposed after its exception: reopened, its SLA clock restarted from the reopening. */
const reopen: Step = async ({ state, deps }) => {
  const { store, clock, policy } = deps;
  await updateFinding(store, clock, state.findingId, (f, at) => {
    const dueAt = dueDateFor(f.severity, new Date(at), policy).toISOString();
    return {
      finding: {
        ...f,
        status: 'reopened',
        dueAt,
        reopenedAt: at,
        exception: undefined,
        ...(f.exception ? { expiredException: { ...f.exception, expiredAt: at } } : {}),
        lifecycle: {
          ...f.lifecycle!,
          waitingAt: undefined,
          timerAt: dueAt,
          timerKind: 'sla_breach',
          lastEscalatedAt: undefined,
          approvalDueAt: undefined,
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
        ...(signal?.identity ? { actorIdentity: signal.identity } : {}),
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
  await_owner_fix: awaitOwnerFix,
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
  return {
    ...f.lifecycle!,
    waitingAt: undefined,
    timerAt: undefined,
    timerKind: undefined,
    taskToken: undefined,
    approvalDueAt: undefined,
  };
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
