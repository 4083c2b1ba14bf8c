import type { AuditEventDraft } from '../audit/chain';
import { isOpenWork, type Finding, type TimerKind, type WaitState } from '../finding/model';
import type { FindingStore } from '../finding/ports';
import { updateFinding } from '../finding/update';
import { dueDateFor, type Policy } from '../policy/policy';
import { DAY_MS, type Clock } from '../shared/clock';
import { inParallel } from '../shared/concurrency';

const ACTOR = 'closeloop:lifecycle';
const HOUR_MS = 3600 * 1000;
type EventDraft = Omit<AuditEventDraft, 'at'>;
const iso = (ms: number) => new Date(ms).toISOString();

/** The waits in which an approver is asked for a decision; that decision escalates after `approvalTimeoutHours`. */
export const APPROVAL_WAITS: ReadonlySet<WaitState> = new Set(['AwaitApproval', 'AwaitExceptionApproval']);

/**
 * Where the SLA clock of the finding's current generation starts: when the hub first saw it (its
 * `firstSeen`, whenever its lifecycle got to triage), or its last reopening.
 */
export const slaStart = (f: Pick<Finding, 'firstSeen' | 'reopenedAt'>): string => f.reopenedAt ?? f.firstSeen;

/** The due date of the finding's current generation: its SLA start plus the severity's SLA days. */
export const dueDateOf = (f: Pick<Finding, 'firstSeen' | 'reopenedAt' | 'severity'>, policy: Policy): string =>
  dueDateFor(f.severity, new Date(slaStart(f)), policy).toISOString();

/** When the SLA escalates next: at the due date, then every `escalationCadenceDays` after the last escalation. */
function nextSlaEscalation(f: Finding, policy: Policy): string | undefined {
  if (!f.dueAt || !isOpenWork(f.status)) return undefined;
  const last = f.lifecycle?.lastEscalatedAt;
  return last ? iso(Date.parse(last) + policy.escalationCadenceDays * DAY_MS) : f.dueAt;
}

/** When the decision an approver is asked for escalates next, while one is asked for. */
function nextApprovalEscalation(f: Finding): string | undefined {
  const lc = f.lifecycle;
  return lc?.waitingAt && APPROVAL_WAITS.has(lc.waitingAt) && isOpenWork(f.status) ? lc.approvalDueAt : undefined;
}

/**
 * The finding's next timer, the earliest of: its SLA escalation (in every wait that is not a
 * resolution, and while it is remediated: the deadline never stops), its approval escalation, and,
 * for an accepted risk, the end of its exception (the SLA does not run while a risk is accepted).
 */
export function nextTimer(f: Finding, policy: Policy): { at: string; kind: TimerKind } | undefined {
  if (f.status === 'risk_accepted')
    return f.exception?.until ? { at: f.exception.until, kind: 'exception_expiry' } : undefined;
  const sla = nextSlaEscalation(f, policy);
  const approval = nextApprovalEscalation(f);
  if (sla && (!approval || Date.parse(sla) <= Date.parse(approval))) return { at: sla, kind: 'sla_breach' };
  return approval ? { at: approval, kind: 'approval_timeout' } : undefined;
}

/** The finding with its lifecycle's timer set to `nextTimer`. */
export function withTimer(f: Finding, policy: Policy): Finding {
  const timer = nextTimer(f, policy);
  return { ...f, lifecycle: { ...f.lifecycle!, timerAt: timer?.at, timerKind: timer?.kind } };
}

/** What the finding waits for, in words, for escalation texts. */
function waitingFor(f: Finding): string {
  if (f.status === 'remediating') return 'while it is being remediated';
  switch (f.lifecycle?.waitingAt) {
    case 'AwaitApproval':
      return 'while it waits for a remediation approval';
    case 'AwaitExceptionApproval':
      return 'while it waits for an exception decision';
    case 'AwaitOwnerFix':
      return "while it waits for its owner's fix";
    default:
      return 'in its lifecycle';
  }
}

/**
 * Fires what is due at `at`: the SLA breach (`sla.breached` the first time, then `sla.escalated`
 * every `escalationCadenceDays`) while the finding is open work, whatever it waits for, and the
 * approval escalation (`approval.timed_out`, every `approvalTimeoutHours`) while an approver is
 * asked. Neither moves the lifecycle: it keeps waiting. Pure: the finding with its next timer,
 * and no events when nothing was due.
 */
export function escalate(f: Finding, at: string, policy: Policy): { finding: Finding; events: EventDraft[] } {
  const events: EventDraft[] = [];
  const lifecycle = { ...f.lifecycle! };
  const now = Date.parse(at);
  const sla = nextSlaEscalation(f, policy);
  if (sla && Date.parse(sla) <= now) {
    const first = !lifecycle.lastEscalatedAt;
    events.push({
      actor: ACTOR,
      action: first ? 'sla.breached' : 'sla.escalated',
      reason: `${f.severity} finding due ${f.dueAt} is overdue ${waitingFor(f)}; escalated to ${policy.escalationContact}, again every ${policy.escalationCadenceDays} days`,
      data: {
        dueAt: f.dueAt,
        escalatedTo: policy.escalationContact,
        owner: f.owner,
        ...(f.lifecycle?.waitingAt ? { waitingAt: f.lifecycle.waitingAt } : {}),
      },
    });
    lifecycle.lastEscalatedAt = at;
  }
  const approval = nextApprovalEscalation(f);
  if (approval && Date.parse(approval) <= now) {
    const what = f.lifecycle?.waitingAt === 'AwaitExceptionApproval' ? 'exception' : 'remediation';
    events.push({
      actor: ACTOR,
      action: 'approval.timed_out',
      reason: `no decision on the ${what} within ${policy.approvalTimeoutHours} hours; escalated to ${policy.escalationContact}`,
      data: { escalatedTo: policy.escalationContact, requiredRole: policy.approverRoles[f.severity] },
    });
    lifecycle.approvalDueAt = iso(now + policy.approvalTimeoutHours * HOUR_MS);
  }
  return { finding: withTimer({ ...f, lifecycle }, policy), events };
}

export interface TimerDeps {
  store: FindingStore;
  clock: Clock;
  policy: Policy;
}

export interface FiredTimers {
  /** Findings escalated, with the actions recorded. */
  escalated: Array<{ id: string; actions: string[] }>;
  /** Accepted risks whose exception has ended: the runtime resumes their lifecycle at `exception_expired`. */
  expired: Finding[];
}

/**
 * Fires every timer due at the hub's clock (the sparse `TIMER` partition: only what is due is
 * read). SLA and approval escalations are recorded here, in DynamoDB, the same on both runtimes and
 * whatever the finding waits for. Exceptions that ended are returned for the runtime to resume
 * (locally a new execution at `exception_expired`; on Step Functions the execution's Wait state
 * ends them itself).
 */
export async function fireDueTimers(deps: TimerDeps, options: { concurrency?: number } = {}): Promise<FiredTimers> {
  const due = await deps.store.dueTimers(deps.clock.now().toISOString());
  const ended = (f: Finding) => f.status === 'risk_accepted' && f.lifecycle?.timerKind === 'exception_expiry';
  const escalated = await inParallel(
    options.concurrency ?? 8,
    due.filter((f) => !ended(f)),
    async (f) => {
      let actions: string[] = [];
      await updateFinding(deps.store, deps.clock, f.id, (current, at) => {
        if (!current.lifecycle) return undefined;
        const next = escalate(current, at, deps.policy);
        const moved =
          next.finding.lifecycle?.timerAt !== current.lifecycle.timerAt ||
          next.finding.lifecycle?.timerKind !== current.lifecycle.timerKind;
        if (next.events.length === 0 && !moved) return undefined;
        actions = next.events.map((e) => e.action);
        return next;
      });
      return { id: f.id, actions };
    },
  );
  return { escalated: escalated.filter((e) => e.actions.length > 0), expired: due.filter(ended) };
}
