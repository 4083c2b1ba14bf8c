import { RefusedError } from '../shared/errors';
import { latestExceptionEnd } from '../policy/policy';
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

export interface InboundTicketEvent {
  key: string;
  findingIdFromLabel?: string;
  actor: string;
  signal: InboundSignal;
}

/**
 * Applies a ticket event to its finding through the same decisions the API uses. The ticket
 * speaks for the finding's owner: "done" records the resolution as evidence and resumes the
 * owner-fix wait (verification decides); "won't do" files an exception request for the longest
 * period policy allows, which an approver must still decide; "reopened" reopens a closed
 * finding. Events that do not apply now (the finding is not waiting) change nothing.
 */
export async function applyTicketEvent(
  deps: DecisionDeps & { tickets: TicketStore },
  system: 'jira' | 'jira-dc' | 'servicenow',
  event: InboundTicketEvent,
): Promise<{ outcome: 'applied' | 'ignored'; message: string }> {
  const id = event.findingIdFromLabel ?? (await deps.tickets.findingForTicketKey(system, event.key));
  if (!id) return { outcome: 'ignored', message: `${event.key} is not a closeloop ticket` };
  const finding = await deps.store.get(id);
  if (!finding) return { outcome: 'ignored', message: `${event.key}: finding ${id} not found` };
  const owner = finding.owner ?? 'unknown';
  try {
    switch (event.signal.kind) {
      case 'ignored':
        return { outcome: 'ignored', message: `${event.key}: ${event.signal.reason}` };
      case 'done':
        return { outcome: 'applied', message: await reportFixed(deps, { id, by: owner, note: event.signal.note }) };
      case 'wont_do': {
        const until = latestExceptionEnd(finding.severity, deps.clock.now(), deps.policy);
        return {
          outcome: 'applied',
          message: await requestException(deps, {
            id,
            by: owner,
            until,
            reason: `${event.signal.reason}; the owner asks to accept the risk until ${until.toISOString().slice(0, 10)}`,
          }),
        };
      }
      case 'reopened':
        return {
          outcome: 'applied',
          message: await reopenFinding(deps, { id, by: event.actor, reason: event.signal.reason }),
        };
      case 'commented': {
        const signal = event.signal;
        await updateFinding(deps.store, deps.clock, id, (f) => ({
          finding: f,
          events: [
            {
              actor: event.actor,
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
    // The finding is not where this event applies (already verifying, resolved, …): not an error for the sender.
    if (err instanceof RefusedError) return { outcome: 'ignored', message: err.message };
    throw err;
  }
}
