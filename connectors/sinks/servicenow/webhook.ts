import { z } from 'zod';
import type { InboundTicketEvent } from '@core/tickets/inbound';
import { describeIssues } from '@core/shared/problems';
import type { ServiceNowConfig } from './config';

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

/** Done states → done; won't-do states (cancelled) → an exception request; done → open → reopened. */
export function interpretServiceNowWebhook(
  event: ServiceNowWebhook,
  config: Pick<ServiceNowConfig, 'doneStates' | 'wontDoStates' | 'openStates'>,
): InboundTicketEvent {
  const by = event.sys_updated_by;
  const base = { key: event.number, user: { id: by } };
  if (config.wontDoStates.includes(event.state))
    return {
      ...base,
      signal: {
        kind: 'wont_do',
        reason: `ServiceNow ${event.number} cancelled by ${by}${event.close_notes ? `: ${event.close_notes.slice(0, 300)}` : ''}`,
      },
    };
  if (config.doneStates.includes(event.state))
    return {
      ...base,
      signal: {
        kind: 'done',
        note: `ServiceNow ${event.number} closed by ${by}${event.close_notes ? `: ${event.close_notes.slice(0, 300)}` : ''}`,
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
