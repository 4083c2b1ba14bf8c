import { createHash } from 'node:crypto';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { applyTicketEvent, type InboundTicketEvent } from '@core/tickets/inbound';
import type { TicketStore } from '@core/tickets/ports';
import { verifyHmacSignature } from '@connectors/sinks/webhook-signature';
import { interpretJiraWebhook, parseJiraWebhook } from '@connectors/sinks/jira/webhook';
import { interpretServiceNowWebhook, parseServiceNowWebhook } from '@connectors/sinks/servicenow/webhook';
import type { ServiceNowConfig } from '@connectors/sinks/servicenow/config';

/** The header carrying `sha256=<hex>` for each system. */
export const SIGNATURE_HEADERS = {
  jira: 'x-hub-signature',
  // Jira Data Center signs with the webhook's secret token the same way (HMAC-SHA256, X-Hub-Signature).
  'jira-dc': 'x-hub-signature',
  servicenow: 'x-closeloop-signature',
} as const;

/** Where each system's webhook secret is configured (locally; on AWS, the TicketingSecret). */
const SECRET_VARIABLES = {
  jira: 'JIRA_WEBHOOK_SECRET',
  'jira-dc': 'JIRA_DC_WEBHOOK_SECRET',
  servicenow: 'SERVICENOW_WEBHOOK_SECRET',
} as const;

export interface WebhookDeps extends DecisionDeps {
  tickets: TicketStore;
  secrets: { jira?: string; 'jira-dc'?: string; servicenow?: string };
  jiraWontDo: string[];
  /** Jira Data Center's won't-do resolutions. @default jiraWontDo */
  jiraDcWontDo?: string[];
  servicenowStates: Pick<ServiceNowConfig, 'doneStates' | 'wontDoStates' | 'openStates'>;
}

export interface WebhookResponse {
  statusCode: number;
  body: string;
}

const reply = (statusCode: number, body: Record<string, unknown>): WebhookResponse => ({
  statusCode,
  body: JSON.stringify(body),
});

/**
 * `POST /webhooks/jira` and `POST /webhooks/servicenow`: the signature over the raw body first
 * (missing or wrong → 401, nothing done), then the delivery is recorded so a replay does nothing,
 * then the event is applied to its finding. A failure forgets the delivery so the sender's retry
 * is processed.
 */
export async function handleTicketWebhook(
  system: 'jira' | 'jira-dc' | 'servicenow',
  rawBody: string,
  headers: Record<string, string | undefined>,
  deps: WebhookDeps,
): Promise<WebhookResponse> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const secret = deps.secrets[system];
  if (!secret)
    return reply(503, {
      message: `${system} webhooks are not configured (${SECRET_VARIABLES[system]})`,
    });
  if (!verifyHmacSignature(rawBody, lower[SIGNATURE_HEADERS[system]], secret))
    return reply(401, { message: `missing or wrong ${SIGNATURE_HEADERS[system]} signature` });

  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return reply(400, { message: 'body is not JSON' });
  }
  let event: InboundTicketEvent;
  if (system === 'jira' || system === 'jira-dc') {
    // Data Center sends the same webhook bodies as Cloud (issue, changelog, user, comment).
    const parsed = parseJiraWebhook(body);
    if (!parsed.ok) return reply(400, { message: `Jira webhook: ${parsed.problems.join('; ')}` });
    event = interpretJiraWebhook(
      parsed.value,
      system === 'jira' ? deps.jiraWontDo : (deps.jiraDcWontDo ?? deps.jiraWontDo),
    );
  } else {
    const parsed = parseServiceNowWebhook(body);
    if (!parsed.ok) return reply(400, { message: `ServiceNow webhook: ${parsed.problems.join('; ')}` });
    event = interpretServiceNowWebhook(parsed.value, deps.servicenowStates);
  }

  // Jira names each delivery (kept on its retries); otherwise the signed body is the identity.
  const deliveryId = lower['x-atlassian-webhook-identifier'] ?? createHash('sha256').update(rawBody).digest('hex');
  if (!(await deps.tickets.recordDelivery(system, deliveryId, deps.clock.now().toISOString()))) {
    return reply(200, { outcome: 'duplicate', message: `delivery ${deliveryId.slice(0, 16)} was processed before` });
  }
  try {
    const result = await applyTicketEvent(deps, system, event);
    return reply(200, result);
  } catch (err) {
    await deps.tickets.forgetDelivery(system, deliveryId);
    throw err;
  }
}
