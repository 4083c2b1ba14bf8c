import { createHash } from 'node:crypto';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { applyTicketEvent, type InboundTicketEvent } from '@core/tickets/inbound';
import type { TicketStore } from '@core/tickets/ports';
import { verifyHmacSignature } from '@connectors/sinks/webhook-signature';
import { interpretJiraWebhook, parseJiraWebhook } from '@connectors/sinks/jira/webhook';
import { interpretServiceNowWebhook, parseServiceNowWebhook } from '@connectors/sinks/servicenow/webhook';
import type { ServiceNowInboundSettings } from '@connectors/sinks/servicenow/config';
import type { JiraInboundSettings } from '@connectors/sinks/jira/config';

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
  /** How Jira's deliveries are read: won't-do resolutions, decisions, the hub's own account. */
  jira: JiraInboundSettings;
  /** How Jira Data Center's are (its own resolutions and account). @default jira */
  jiraDc?: JiraInboundSettings;
  /** How ServiceNow's are: state meanings, decision states, the hub's own user. */
  servicenow: ServiceNowInboundSettings;
}

export interface WebhookResponse {
  statusCode: number;
  body: string;
}

const reply = (statusCode: number, body: Record<string, unknown>): WebhookResponse => ({
  statusCode,
  body: JSON.stringify(body),
});

/** The identities a delivery is deduplicated by: always the signed body's hash; on the Jira route also Jira's delivery id. */
export function deliveryKeys(
  system: 'jira' | 'jira-dc' | 'servicenow',
  rawBody: string,
  headers: Record<string, string | undefined>,
): string[] {
  const hash = `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
  // The identifier header is not signed: it only adds Jira's own retry identity, and only on its route.
  const atlassian = system === 'jira' ? headers['x-atlassian-webhook-identifier']?.trim() : undefined;
  return atlassian ? [hash, `atlassian:${atlassian.slice(0, 200)}`] : [hash];
}

/**
 * A signed Jira delivery carries its own time (`timestamp`, ms): one older than the policy's
 * window (or from the future beyond a little clock skew) is a replay, however well signed.
 */
function staleJiraDelivery(timestamp: number | undefined, now: Date, maxAgeMinutes: number): string | undefined {
  if (timestamp === undefined) return 'the delivery has no signed "timestamp", so it cannot be told from a replay';
  const age = now.getTime() - timestamp;
  if (age > maxAgeMinutes * 60_000)
    return `the delivery was signed at ${new Date(timestamp).toISOString()}, more than ${maxAgeMinutes} minutes ago: a replay is refused`;
  if (age < -MAX_CLOCK_SKEW_MS)
    return `the delivery's signed timestamp ${new Date(timestamp).toISOString()} is in the future`;
  return undefined;
}

/** How far a sender's clock may run ahead of the hub's. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * `POST /webhooks/jira` and `POST /webhooks/servicenow`: the signature over the raw body first
 * (missing or wrong → 401, nothing done); a Jira delivery signed longer ago than the policy's
 * window is refused; then the delivery is recorded under its signed body's hash (and, on the Jira
 * route, Jira's delivery id) so a replay, with or without a new identifier, does nothing; then the
 * event is applied to its finding. A failure forgets the delivery so the sender's retry is processed.
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
    const stale = staleJiraDelivery(parsed.value.timestamp, deps.clock.now(), deps.policy.webhookMaxAgeMinutes);
    if (stale) {
      await deps.tickets.countIgnored(system, 'stale', deps.clock.now().toISOString());
      return reply(400, { message: `Jira webhook: ${stale}` });
    }
    event = interpretJiraWebhook(parsed.value, system === 'jira' ? deps.jira : (deps.jiraDc ?? deps.jira));
  } else {
    const parsed = parseServiceNowWebhook(body);
    if (!parsed.ok) return reply(400, { message: `ServiceNow webhook: ${parsed.problems.join('; ')}` });
    event = interpretServiceNowWebhook(parsed.value, deps.servicenow);
  }

  const at = deps.clock.now().toISOString();
  const recorded: string[] = [];
  for (const key of deliveryKeys(system, rawBody, lower)) {
    // The body's hash comes first: once it is recorded, no identifier lets the same body through again.
    if (!(await deps.tickets.recordDelivery(system, key, at)))
      return reply(200, { outcome: 'duplicate', message: `delivery ${key.slice(0, 24)} was processed before` });
    recorded.push(key);
  }
  try {
    const result = await applyTicketEvent(
      {
        ...deps,
        selfUsers: {
          jira: deps.jira.selfUsers,
          'jira-dc': (deps.jiraDc ?? deps.jira).selfUsers,
          servicenow: deps.servicenow.selfUsers,
        },
      },
      system,
      event,
    );
    return reply(200, { ...result });
  } catch (err) {
    for (const key of recorded) await deps.tickets.forgetDelivery(system, key);
    throw err;
  }
}
