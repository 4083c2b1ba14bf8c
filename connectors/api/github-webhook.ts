import { createHash } from 'node:crypto';
import type { SecretHasher } from '@core/finding/identity';
import { ingestRecords, type IngestSummary } from '@core/ingest/ingest';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { applySourceSignal, type SourceSignal } from '@core/lifecycle/source-signals';
import { parseRecord } from '@core/shared/problems';
import type { TicketStore } from '@core/tickets/ports';
import { WRITEBACK_MARK } from '@core/writeback/model';
import { verifyHmacSignature } from '@connectors/sinks/webhook-signature';
import {
  githubAliasKey,
  GithubWebhookSchema,
  normalizeGithubWebhook,
  type GithubWebhook,
} from '@connectors/sources/github';
import { toRecordOutcome } from '@connectors/sources/outcome';
import type { WebhookResponse } from './webhooks';

/** GitHub signs each delivery's raw body with the webhook's secret: `sha256=<hex HMAC>`. */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';

export interface GithubWebhookDeps extends DecisionDeps {
  /** Deliveries already processed (the ticket store's delivery records, under `github`). */
  tickets: Pick<TicketStore, 'recordDelivery' | 'forgetDelivery'>;
  /** The webhook's shared secret; without one every delivery is refused. */
  secret?: string;
  /** The parse context's hasher (a webhook carries no secret; the alert's alias finds its finding). */
  hasher: SecretHasher;
}

const reply = (statusCode: number, body: Record<string, unknown>): WebhookResponse => ({
  statusCode,
  body: JSON.stringify(body),
});

/**
 * What an event says beyond the alert itself (which ingest records): revoked at the source
 * (resolved as `revoked`, the older `revoked` action, or a validity check that found it inactive),
 * resolved for another reason, or reopened. closeloop's own write-back echoing back (its comment)
 * says nothing new.
 */
function signalOf(hook: GithubWebhook, findingId: string): SourceSignal | undefined {
  const { action, alert, repository } = hook;
  const name = `${repository.full_name}#${alert.number}`;
  const login = alert.resolved_by?.login ?? hook.sender?.login;
  const actor = login ? `github:${login}` : 'github';
  const by = login ? ` by @${login}` : '';
  if ((alert.resolution_comment ?? '').startsWith(WRITEBACK_MARK)) return undefined;
  if (action === 'revoked' || (action === 'resolved' && alert.resolution === 'revoked'))
    return {
      kind: 'revoked',
      findingId,
      actor,
      ref: `github:${name} resolved as revoked${by}`,
      reason: `GitHub alert ${name} resolved as revoked${by}${alert.resolution_comment ? `: ${alert.resolution_comment}` : ''}`,
    };
  if (action === 'validated' && alert.validity === 'inactive')
    return {
      kind: 'revoked',
      findingId,
      actor: 'github',
      ref: `github:${name} validity inactive`,
      reason: `GitHub's validity check of alert ${name} found the secret inactive`,
    };
  if (action === 'resolved')
    return {
      kind: 'resolved',
      findingId,
      actor,
      reason: `GitHub alert ${name} resolved as ${alert.resolution ?? 'unknown'}${by}${alert.resolution_comment ? `: ${alert.resolution_comment}` : ''}; closeloop keeps the finding open until its evidence closes it (or an approver decides)`,
    };
  if (action === 'reopened')
    return { kind: 'reopened', findingId, actor, reason: `GitHub alert ${name} reopened${by}` };
  return undefined;
}

/**
 * `POST /webhooks/github`: the `secret_scanning_alert` events of a repository, organisation or
 * GitHub App (created, resolved, reopened, validated, publicly_leaked; assigned and unassigned are
 * acknowledged and change nothing).
 * 1. The `X-Hub-Signature-256` HMAC of the raw body under the shared secret, compared in constant
 *    time, before anything else: missing or wrong → 401.
 * 2. A delivery is processed once: by its `X-GitHub-Delivery` id (kept on GitHub's redeliveries) and
 *    by the hash of its signed body (the id header is not signed, so a replay under a new id is
 *    caught too). A failure forgets both, so GitHub's retry is processed.
 * 3. The alert is ingested like a pulled one (it finds its finding by the alert's alias); then a
 *    reopened alert reopens a closed finding, and a resolved one is evidence to verify or a note
 *    for the owner, never a closing by itself.
 */
export async function handleGithubWebhook(
  rawBody: string,
  headers: Record<string, string | undefined>,
  deps: GithubWebhookDeps,
): Promise<WebhookResponse> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (!deps.secret) return reply(503, { message: 'GitHub webhooks are not configured (GITHUB_WEBHOOK_SECRET)' });
  if (!verifyHmacSignature(rawBody, lower[GITHUB_SIGNATURE_HEADER], deps.secret))
    return reply(401, { message: `missing or wrong ${GITHUB_SIGNATURE_HEADER} signature` });
  const event = lower['x-github-event'];
  if (event === 'ping') return reply(200, { outcome: 'pong', message: 'webhook reached closeloop' });
  if (event !== 'secret_scanning_alert')
    return reply(202, {
      outcome: 'ignored',
      message: `event ${JSON.stringify((event ?? '').slice(0, 40))} is not handled: send only "Secret scanning alerts"`,
    });

  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return reply(400, { message: "body is not JSON: set the webhook's content type to application/json" });
  }
  const parsed = parseRecord(GithubWebhookSchema, body);
  if (!parsed.ok) return reply(400, { message: `GitHub webhook: ${parsed.problems.join('; ')}` });
  const hook = parsed.value;

  const at = deps.clock.now().toISOString();
  const guid = lower['x-github-delivery']?.trim().slice(0, 100);
  const keys = [...(guid ? [`delivery:${guid}`] : []), `sha256:${createHash('sha256').update(rawBody).digest('hex')}`];
  const recorded: string[] = [];
  for (const key of keys) {
    if (!(await deps.tickets.recordDelivery('github', key, at))) {
      return reply(200, {
        outcome: 'duplicate',
        message: `delivery ${(guid ?? key).slice(0, 40)} was processed before`,
      });
    }
    recorded.push(key);
  }

  try {
    const summary: IngestSummary = await ingestRecords(
      [toRecordOutcome(1, body, normalizeGithubWebhook(body, { hasher: deps.hasher, receivedAt: at }))],
      {
        store: deps.store,
        clock: deps.clock,
        reportName: `github-webhook:${guid ?? 'delivery'}`,
        format: 'github',
        // A new alert's finding starts its lifecycle right after the commit.
        ...(deps.launcher ? { launcher: deps.launcher } : {}),
      },
    );
    const alias = githubAliasKey(hook.repository.full_name, hook.alert.number);
    const findingId = (await deps.store.resolveAliases([alias])).get(alias);
    const signal = findingId ? signalOf(hook, findingId) : undefined;
    const applied = signal ? await applySourceSignal(deps, signal) : undefined;
    return reply(200, {
      // `recorded`: the alert's news is on the finding (a new alert, a validity, a state), nothing more to do.
      outcome: applied?.outcome ?? (summary.created + summary.updated > 0 ? 'recorded' : 'ignored'),
      action: hook.action,
      ...(findingId ? { findingId } : {}),
      ingest: summary,
      message:
        applied?.message ??
        (findingId
          ? `${findingId}: alert ${hook.action}`
          : `alert ${hook.action}: no finding (${summary.skipped} skipped)`),
    });
  } catch (err) {
    for (const key of recorded) await deps.tickets.forgetDelivery('github', key);
    throw err;
  }
}
