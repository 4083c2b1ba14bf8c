import { RefusedError } from '../shared/errors';
import { latestExceptionEnd } from '../policy/policy';
import { resolveActor } from '../policy/identity';
import {
  claimFalsePositive,
  decideApproval,
  decideException,
  markFalsePositive,
  rejectFalsePositive,
  reopenFinding,
  reportFixed,
  requestException,
  type DecisionActor,
  type DecisionDeps,
} from '../lifecycle/decisions';
import { updateFinding } from '../finding/update';
import { isOpenWork, type Finding } from '../finding/model';
import { awaitedDecision } from './draft';
import type { ReturnTo, TicketDecision } from './model';
import type { TicketStore } from './ports';

/** What a ticketing system told us about a finding's ticket (see the Jira and ServiceNow webhooks). */
export type InboundSignal =
  | { kind: 'done'; note: string; returnTo?: ReturnTo }
  | { kind: 'wont_do'; reason: string; returnTo?: ReturnTo }
  | { kind: 'reopened'; reason: string }
  /** A decision taken in the ticket; `label` is what the person chose there, e.g. "Approve exception". */
  | { kind: 'decision'; decision: TicketDecision; label: string; note?: string; returnTo?: ReturnTo }
  | { kind: 'commented'; commentId: string; author: string }
  | { kind: 'ignored'; reason: string };

/** Who acted in the ticketing system, as its signed webhook names them. */
export interface TicketUser {
  /** Jira accountId, or ServiceNow user name (`sys_updated_by`). */
  id: string;
  /** When the ticketing system shows it (Jira hides it under some privacy settings). */
  email?: string;
}

/**
 * A ticket event. The ticket key is the only link to a finding: labels, correlation ids and
 * other text in the body are the ticket's content, which anyone who can edit a ticket can set.
 */
export interface InboundTicketEvent {
  key: string;
  user: TicketUser;
  signal: InboundSignal;
}

/** Why an inbound event changed nothing (counted per reason, see TicketStore.countIgnored). */
export type IgnoredReason = 'unknown_ticket' | 'finding_missing' | 'no_change' | 'not_applicable' | 'own_change';

export interface InboundResult {
  /** `refused`: a person's change in the ticket was refused; the ticket is told why and put back. */
  outcome: 'applied' | 'ignored' | 'refused';
  message: string;
  /** Set when ignored. */
  ignored?: IgnoredReason;
}

/**
 * Applies a ticket event to its finding through the same decisions the CLI and the API use, as
 * the ticket's acting user: mapped to a policy principal (`principals[].identities`, or the email
 * the ticketing system shows), otherwise `jira:<accountId>` / `servicenow:<user>`. So "done" and
 * "won't do" are the owner's only when the owner acted, and separation of duties compares an
 * approver with whoever really asked. "Done" records the resolution as evidence and resumes the
 * owner-fix wait (verification decides); "won't do" files an exception request for the longest
 * period policy allows, which an approver must still decide; "reopened" reopens a closed
 * finding. Only the ticket the hub recorded for a finding speaks for it: any other key is ignored
 * and counted. Events that do not apply now (the finding is not waiting) change nothing.
 */
export async function applyTicketEvent(
  deps: DecisionDeps & {
    tickets: TicketStore;
    /** The hub's own users in each system: what they change is the hub's own doing (its transitions, comments). */
    selfUsers?: Partial<Record<'jira' | 'jira-dc' | 'servicenow', string[]>>;
  },
  system: 'jira' | 'jira-dc' | 'servicenow',
  event: InboundTicketEvent,
): Promise<InboundResult> {
  const ignored = async (reason: IgnoredReason, message: string): Promise<InboundResult> => {
    await deps.tickets.countIgnored(system, reason, deps.clock.now().toISOString());
    return { outcome: 'ignored', message, ignored: reason };
  };
  const self = (deps.selfUsers?.[system] ?? []).map((u) => u.toLowerCase());
  if (self.includes(event.user.id.toLowerCase()) || (event.user.email && self.includes(event.user.email.toLowerCase())))
    return ignored('own_change', `${event.key}: a change closeloop made itself`);
  const id = await deps.tickets.findingForTicketKey(system, event.key);
  if (!id) return ignored('unknown_ticket', `${event.key} is not the ticket of any finding`);
  const finding = await deps.store.get(id);
  if (!finding) return ignored('finding_missing', `${event.key}: finding ${id} not found`);
  const actor = resolveActor(
    { kind: 'ticket', system, user: event.user.id, ...(event.user.email ? { email: event.user.email } : {}) },
    deps.policy,
  );
  const by = { by: actor.name, identity: actor.identity };
  try {
    switch (event.signal.kind) {
      case 'ignored':
        return ignored('no_change', `${event.key}: ${event.signal.reason}`);
      case 'done':
        return { outcome: 'applied', message: await reportFixed(deps, { id, ...by, note: event.signal.note }) };
      case 'wont_do': {
        const until = latestExceptionEnd(finding.severity, deps.clock.now(), deps.policy);
        return {
          outcome: 'applied',
          message: await requestException(deps, {
            id,
            ...by,
            until,
            reason: `${event.signal.reason}; asks to accept the risk until ${until.toISOString().slice(0, 10)}`,
          }),
        };
      }
      case 'reopened':
        return {
          outcome: 'applied',
          message: await reopenFinding(deps, { id, ...by, reason: event.signal.reason }),
        };
      case 'decision':
        return { outcome: 'applied', message: await takeDecision(deps, finding, event.key, event.signal, by) };
      case 'commented': {
        const signal = event.signal;
        await updateFinding(deps.store, deps.clock, id, (f) => ({
          finding: f,
          events: [
            {
              actor: actor.name,
              actorIdentity: actor.identity,
              action: 'ticket.commented',
              reason: `comment ${signal.commentId} on ${event.key} by ${signal.author}`,
              data: { key: event.key, commentId: signal.commentId },
            },
          ],
        }));
        return { outcome: 'applied', message: `${id}: comment recorded` };
      }
    }
  } catch (err) {
    // The acting user may not do this, or the finding is not where it applies. A person's change to
    // an open finding's ticket is answered in the ticket (why, and back where it waits); the rest
    // (a resolved finding's ticket moved again, …) changes nothing and is no error for the sender.
    if (err instanceof RefusedError) {
      const signal = event.signal;
      const returnTo = 'returnTo' in signal ? signal.returnTo : undefined;
      const current = returnTo ? await deps.store.get(id) : undefined;
      if (returnTo && current && isOpenWork(current.status)) {
        const attempted = signal.kind === 'decision' ? signal.label : signal.kind === 'done' ? 'Done' : "Won't Do";
        await recordRefusal(deps, id, actor, err.message, { key: event.key, returnTo, attempted });
        return { outcome: 'refused', message: err.message };
      }
      return ignored('not_applicable', err.message);
    }
    throw err;
  }
}

/** A refused change in the ticket, recorded so the ticket is told why and put back (ticket op `refuse`). */
async function recordRefusal(
  deps: DecisionDeps,
  id: string,
  actor: { name: string; identity: string },
  reason: string,
  what: { key: string; returnTo: ReturnTo; attempted: string },
): Promise<void> {
  await updateFinding(deps.store, deps.clock, id, (f) => ({
    finding: f,
    events: [
      {
        actor: actor.name,
        actorIdentity: actor.identity,
        action: 'decision.refused',
        reason,
        data: {
          ticket: what.key,
          attempted: what.attempted,
          returnTo: what.returnTo,
          awaiting: awaitedDecision(f, deps.policy).text,
        },
      },
    ],
  }));
}

/** Which decision `approve` or `reject` means for this finding: the one it waits for, if exactly one. */
function pendingDecision(f: Finding): 'remediation' | 'exception' | 'false_positive' {
  const pending: Array<'remediation' | 'exception' | 'false_positive'> = [];
  if (f.lifecycle?.waitingAt === 'AwaitApproval') pending.push('remediation');
  if (f.lifecycle?.waitingAt === 'AwaitExceptionApproval' || (f.exception && !f.exception.approvedBy))
    pending.push('exception');
  if (f.falsePositiveClaim) pending.push('false_positive');
  const unique = [...new Set(pending)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0)
    throw new RefusedError(`${f.id} waits for no decision now (status ${f.status}); nothing to approve or reject`);
  throw new RefusedError(
    `${f.id} waits for more than one decision (${unique.map((k) => k.replace('_', ' ')).join(', ')}): choose which one, e.g. "Approve exception"`,
  );
}

/** A decision taken in a ticket, through the decision functions the CLI and the API use. */
async function takeDecision(
  deps: DecisionDeps,
  finding: Finding,
  key: string,
  signal: Extract<InboundSignal, { kind: 'decision' }>,
  by: DecisionActor,
): Promise<string> {
  const id = finding.id;
  const note = signal.note ? { reason: signal.note } : {};
  const generic = signal.decision === 'approve' || signal.decision === 'reject';
  const what = generic ? pendingDecision(finding) : undefined;
  const approve = signal.decision.startsWith('approve');
  const subject =
    what ??
    (signal.decision.endsWith('remediation')
      ? 'remediation'
      : signal.decision.endsWith('exception')
        ? 'exception'
        : 'false_positive');
  if (signal.decision === 'claim_false_positive')
    return claimFalsePositive(deps, { id, ...by, reason: signal.note ?? `claimed in ${key} ("${signal.label}")` });
  switch (subject) {
    case 'remediation':
      return decideApproval(deps, { id, ...by, decision: approve ? 'approved' : 'rejected', ...note });
    case 'exception':
      return decideException(deps, { id, ...by, decision: approve ? 'approved' : 'rejected', ...note });
    case 'false_positive':
      return approve
        ? markFalsePositive(deps, {
            id,
            ...by,
            reason: signal.note ?? finding.falsePositiveClaim?.reason ?? `confirmed in ${key} ("${signal.label}")`,
          })
        : rejectFalsePositive(deps, { id, ...by, ...note });
  }
}
