import { RefusedError } from '../shared/errors';
import { latestExceptionEnd } from '../policy/policy';
import { resolveActor } from '../policy/identity';
import { reopenFinding, reportFixed, requestException, type DecisionDeps } from '../lifecycle/decisions';
import { updateFinding } from '../finding/update';
import type { TicketStore } from './ports';

/** What a ticketing system told us about a finding's ticket (see the Jira and ServiceNow webhooks). */
export type InboundSignal =
  | { kind: 'done'; note: string }
  | { kind: 'wont_do'; reason: string }
  | { kind: 'reopened'; reason: string }
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
export type IgnoredReason = 'unknown_ticket' | 'finding_missing' | 'no_change' | 'not_applicable';

export interface InboundResult {
  outcome: 'applied' | 'ignored';
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
  deps: DecisionDeps & { tickets: TicketStore },
  system: 'jira' | 'servicenow',
  event: InboundTicketEvent,
): Promise<InboundResult> {
  const ignored = async (reason: IgnoredReason, message: string): Promise<InboundResult> => {
    await deps.tickets.countIgnored(system, reason, deps.clock.now().toISOString());
    return { outcome: 'ignored', message, ignored: reason };
  };
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
    // The finding is not where this event applies (already verifying, resolved, …), or the acting
    // user may not take this decision: nothing changed, and it is not an error for the sender.
    if (err instanceof RefusedError) return ignored('not_applicable', err.message);
    throw err;
  }
}
