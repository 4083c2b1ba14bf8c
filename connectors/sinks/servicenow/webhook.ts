import { z } from 'zod';
import type { InboundTicketEvent } from '@core/tickets/inbound';
import { describeIssues } from '@core/shared/problems';
import type { ServiceNowInboundSettings } from './config';

/**
 * What closeloop expects a ServiceNow business rule / flow to POST (see the README). The task's
 * `number` is what links it to a finding; a `correlation_id` in the body is the record's content
 * and is not read.
 */
export const ServiceNowWebhookSchema = z.object({
  number: z.string().min(1),
  correlation_id: z.string().optional(),
  state: z.string().min(1),
  previous_state: z.string().optional(),
  close_notes: z.string().optional(),
  /** Who changed the record (`sys_user.user_name`): the actor every decision is attributed to. */
  sys_updated_by: z.string().min(1),
  /** Sent by a business rule on `sysapproval_approver`: an approval record of the task was decided. */
  approval: z
    .object({
      sys_id: z.string().min(1),
      state: z.string().min(1),
      comments: z.string().optional(),
    })
    .optional(),
});
export type ServiceNowWebhook = z.infer<typeof ServiceNowWebhookSchema>;

export function parseServiceNowWebhook(
  body: unknown,
): { ok: true; value: ServiceNowWebhook } | { ok: false; problems: string[] } {
  const parsed = ServiceNowWebhookSchema.safeParse(body);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error, body) };
}

/**
 * An approval record approved or rejected → that decision on what the finding waits for (asked
 * again if refused); a decision state → that decision (back to the previous state if refused);
 * done states → done; won't-do states (cancelled) → an exception request; done → open → reopened.
 */
export function interpretServiceNowWebhook(
  event: ServiceNowWebhook,
  config: ServiceNowInboundSettings,
): InboundTicketEvent {
  const by = event.sys_updated_by;
  const base = { key: event.number, user: { id: by } };
  const notes = event.close_notes ? `: ${event.close_notes.slice(0, 300)}` : '';
  if (event.approval) {
    const state = event.approval.state.toLowerCase();
    if (state !== 'approved' && state !== 'rejected')
      return { ...base, signal: { kind: 'ignored', reason: `approval ${event.approval.state} decides nothing` } };
    return {
      ...base,
      signal: {
        kind: 'decision',
        decision: state === 'approved' ? 'approve' : 'reject',
        label: `approval ${state}`,
        ...(event.approval.comments ? { note: event.approval.comments.slice(0, 300) } : {}),
        returnTo: { approval: event.approval.sys_id },
      },
    };
  }
  const decision = config.decisionStates[event.state];
  if (decision)
    return {
      ...base,
      signal: {
        kind: 'decision',
        decision,
        label: `state ${event.state}`,
        ...(event.close_notes ? { note: event.close_notes.slice(0, 300) } : {}),
        ...(event.previous_state ? { returnTo: { status: event.previous_state } } : {}),
      },
    };
  const back = event.previous_state ? { returnTo: { status: event.previous_state } } : {};
  if (config.wontDoStates.includes(event.state))
    return {
      ...base,
      signal: {
        kind: 'wont_do',
        reason: `ServiceNow ${event.number} cancelled by ${by}${notes}`,
        ...back,
      },
    };
  if (config.doneStates.includes(event.state))
    return {
      ...base,
      signal: {
        kind: 'done',
        note: `ServiceNow ${event.number} closed by ${by}${notes}`,
        ...back,
      },
    };
  if (
    config.openStates.includes(event.state) &&
    event.previous_state &&
    config.doneStates.includes(event.previous_state)
  ) {
    return { ...base, signal: { kind: 'reopened', reason: `ServiceNow ${event.number} reopened by ${by}` } };
  }
  return {
    ...base,
    signal: { kind: 'ignored', reason: `state ${event.previous_state ?? '?'} → ${event.state} changes nothing` },
  };
}
