import type { AxiosInstance } from 'axios';
import type { Clock } from '@core/shared/clock';
import type { SecretHasher } from '@core/finding/identity';
import { addSummary, emptySummary, ingestRecords, type IngestSummary } from '@core/ingest/ingest';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import type { FindingStore } from '@core/finding/ports';
import type { CursorStore } from '@core/ingest/ports';
import { linkPages, type RetryPolicy } from '../http/retrying-http';
import { normalizeGitguardian } from './gitguardian';
import { toRecordOutcome } from './outcome';
import { normalizeGithubAlert } from './github';
import type { Normalized, ParseContext } from './types';

export interface PullDeps {
  http: AxiosInstance;
  store: FindingStore;
  cursors: CursorStore;
  clock: Clock;
  hasher: SecretHasher;
  retry?: RetryPolicy;
  /** Starts each new finding's lifecycle right after its commit (else the sweep does). */
  launcher?: LifecycleLauncher;
}

/**
 * Walks pages newest-first, ingesting each page, until an item at or before the stored
 * watermark. The new watermark is stored only after everything newer was ingested, so a
 * crash or a failed page means the next run repeats work (idempotently), never skips it.
 */
async function pullNewestFirst<T>(
  deps: PullDeps,
  spec: {
    connector: string;
    scope: string;
    firstUrl: (watermark: string | undefined) => string;
    headers: Record<string, string>;
    stampOf: (item: T) => string | undefined;
    normalize: (item: unknown, ctx: ParseContext) => Normalized;
    format: string;
  },
): Promise<IngestSummary & { pages: number; watermark?: string }> {
  const watermark = await deps.cursors.getCursor(spec.connector, spec.scope);
  const ctx: ParseContext = { hasher: deps.hasher, receivedAt: deps.clock.now().toISOString() };
  let summary = emptySummary();
  let newest = watermark;
  let pages = 0;
  let recordNo = 0;
  for await (const page of linkPages<T>(deps.http, spec.firstUrl(watermark), spec.headers, deps.retry)) {
    pages++;
    const fresh = page.filter((item) => {
      const stamp = spec.stampOf(item);
      return !watermark || !stamp || stamp > watermark;
    });
    const outcomes = fresh.map((item) => toRecordOutcome(++recordNo, item, spec.normalize(item, ctx)));
    summary = addSummary(
      summary,
      await ingestRecords(outcomes, {
        store: deps.store,
        clock: deps.clock,
        reportName: `${spec.connector}:${spec.scope}`,
        format: spec.format,
        ...(deps.launcher ? { launcher: deps.launcher } : {}),
      }),
    );
    for (const item of fresh) {
      const stamp = spec.stampOf(item);
      if (stamp && (!newest || stamp > newest)) newest = stamp;
    }
    if (fresh.length < page.length) break; // reached what the last run already ingested
  }
  if (newest && newest !== watermark) await deps.cursors.putCursor(spec.connector, spec.scope, newest);
  return { ...summary, pages, ...(newest ? { watermark: newest } : {}) };
}

export type GithubScope = { org: string } | { repo: string };

/**
 * Pulls GitHub secret scanning alerts for an organisation or a repository: newest update
 * first, Link-header pagination, rate limits honoured, watermark (`updated_at`) in DynamoDB.
 */
export function pullGithubAlerts(deps: PullDeps, options: { apiUrl: string; token: string; scope: GithubScope }) {
  const path =
    'org' in options.scope
      ? `/orgs/${encodeURIComponent(options.scope.org)}`
      : `/repos/${options.scope.repo.split('/').map(encodeURIComponent).join('/')}`;
  const scope =
    'org' in options.scope ? `org:${options.scope.org.toLowerCase()}` : `repo:${options.scope.repo.toLowerCase()}`;
  return pullNewestFirst<{ updated_at?: string | null; created_at?: string }>(deps, {
    connector: 'github-secret-scanning',
    scope,
    firstUrl: () =>
      `${options.apiUrl.replace(/\/$/, '')}${path}/secret-scanning/alerts?per_page=100&sort=updated&direction=desc`,
    headers: {
      Authorization: `Bearer ${options.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
    },
    stampOf: (a) => a.updated_at ?? a.created_at,
    normalize: normalizeGithubAlert,
    format: 'github',
  });
}

/**
 * Pulls GitGuardian secret incidents: cursor pagination through Link headers, newest first,
 * only incidents dated after the stored watermark.
 */
export function pullGitguardianIncidents(deps: PullDeps, options: { apiUrl: string; token: string }) {
  return pullNewestFirst<{ date?: string }>(deps, {
    connector: 'gitguardian',
    scope: 'incidents',
    firstUrl: (watermark) =>
      `${options.apiUrl.replace(/\/$/, '')}/v1/incidents/secrets?per_page=100&ordering=-date${watermark ? `&date_after=${encodeURIComponent(watermark)}` : ''}`,
    headers: { Authorization: `Token ${options.token}`, Accept: 'application/json' },
    stampOf: (i) => i.date,
    normalize: normalizeGitguardian,
    format: 'gitguardian',
  });
}
