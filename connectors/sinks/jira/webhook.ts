import type { InboundTicketEvent } from '@core/tickets/inbound';
import type { JiraInboundSettings } from './config';
import { describeIssues } from '@core/shared/problems';
import { JiraWebhookSchema, type JiraWebhook } from './schemas';

/** Parses a Jira webhook body; problems name the field. */
export function parseJiraWebhook(body: unknown): { ok: true; value: JiraWebhook } | { ok: false; problems: string[] } {
  const parsed = JiraWebhookSchema.safeParse(body);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error, body) };
}

/**
 * Interprets `jira:issue_updated` and `comment_created`: a decision (the decision field set to a
 * decision's name, a transition of that name, or a status of that name reached) → that decision,
 * to be put back where it was if refused; moved into the done category → done (evidence to verify)
 * unless the resolution is a won't-do one (→ an exception request, never a silent acceptance);
 * moved out of done → reopened; a comment → recorded.
 */
export function interpretJiraWebhook(event: JiraWebhook, settings: JiraInboundSettings): InboundTicketEvent {
  const { wontDo } = settings;
  const key = event.issue.key;
  // The user who made the change (for a comment, its author): labels and other fields are content anyone can edit.
  // Jira Cloud names users by accountId; Data Center by user name.
  const who = event.user?.accountId || event.user?.name ? event.user : (event.comment?.author ?? event.user);
  const email = who?.emailAddress;
  const user = { id: who?.accountId ?? who?.name ?? 'unknown', ...(email ? { email } : {}) };
  const actor = who?.displayName ?? email ?? user.id;
  const base = { key, user };
  if (event.webhookEvent === 'comment_created') {
    return {
      ...base,
      signal: event.comment
        ? { kind: 'commented', commentId: event.comment.id, author: event.comment.author?.displayName ?? 'unknown' }
        : { kind: 'ignored', reason: 'comment_created without a comment' },
    };
  }
  if (event.webhookEvent !== 'jira:issue_updated')
    return { ...base, signal: { kind: 'ignored', reason: `event ${event.webhookEvent} is not handled` } };
  const items = event.changelog?.items ?? [];
  const byName = new Map(Object.entries(settings.decisions).map(([name, d]) => [name.toLowerCase(), d]));
  const decisionOf = (name: string | null | undefined) => (name ? byName.get(name.trim().toLowerCase()) : undefined);
  const statusChange = items.find((i) => i.field === 'status');
  const fieldChange = settings.decisionField
    ? items.find((i) => i.fieldId === settings.decisionField && decisionOf(i.toString))
    : undefined;
  if (fieldChange)
    return {
      ...base,
      signal: {
        kind: 'decision',
        decision: decisionOf(fieldChange.toString)!,
        label: fieldChange.toString!,
        returnTo: { field: { id: settings.decisionField!, value: fieldChange.fromString ?? null } },
      },
    };
  const chosen = [event.transition?.transitionName, statusChange?.toString].find((name) => decisionOf(name));
  if (chosen && (statusChange || event.transition))
    return {
      ...base,
      signal: {
        kind: 'decision',
        decision: decisionOf(chosen)!,
        label: chosen,
        ...(statusChange?.fromString || event.transition?.from_status
          ? { returnTo: { status: (statusChange?.fromString ?? event.transition?.from_status)! } }
          : {}),
      },
    };
  const category = event.issue.fields.status?.statusCategory?.key;
  const resolution = event.issue.fields.resolution?.name;
  if (!statusChange) return { ...base, signal: { kind: 'ignored', reason: 'no status change' } };
  const back = statusChange.fromString ? { returnTo: { status: statusChange.fromString } } : {};
  if (category === 'done') {
    if (resolution && wontDo.some((w) => w.toLowerCase() === resolution.toLowerCase())) {
      return {
        ...base,
        signal: { kind: 'wont_do', reason: `Jira ${key} resolved "${resolution}" by ${actor}`, ...back },
      };
    }
    return {
      ...base,
      signal: {
        kind: 'done',
        note: `Jira ${key} moved to ${statusChange.toString ?? 'Done'}${resolution ? ` (resolution ${resolution})` : ''} by ${actor}`,
        ...back,
      },
    };
  }
  if (statusChange.fromString && /done|closed|resolved/i.test(statusChange.fromString)) {
    return {
      ...base,
      signal: {
        kind: 'reopened',
        reason: `Jira ${key} reopened (${statusChange.fromString} → ${statusChange.toString ?? '?'}) by ${actor}`,
      },
    };
  }
  return {
    ...base,
    signal: {
      kind: 'ignored',
      reason: `status ${statusChange.fromString ?? '?'} → ${statusChange.toString ?? '?'} changes nothing`,
    },
  };
}
