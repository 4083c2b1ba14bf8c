import type { AxiosInstance, AxiosResponse } from 'axios';
import type { Clock } from '@core/shared/clock';
import { CloseloopError } from '@core/shared/errors';
import type { SecretHasher } from '@core/finding/identity';
import { addSummary, emptySummary, ingestRecords, type IngestSummary } from '@core/ingest/ingest';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import type { FindingStore } from '@core/finding/ports';
import type { CursorStore } from '@core/ingest/ports';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { applySourceSignal } from '@core/lifecycle/source-signals';
import { WRITEBACK_MARK } from '@core/writeback/model';
import {
  HttpRetryExhaustedError,
  nextLink,
  redactUrl,
  requestWithRetry,
  type RetryPolicy,
} from '../http/retrying-http';
import { gitguardianAliasKey, normalizeGitguardian } from './gitguardian';
import { toRecordOutcome } from './outcome';
import { githubAliasKey, normalizeGithubAlert } from './github';
import type { Normalized, ParseContext } from './types';

export interface PullDeps {
  http: AxiosInstance;
  store: FindingStore;
  cursors: CursorStore;
  clock: Clock;
  hasher: SecretHasher;
  retry?: RetryPolicy;
  /**
   * The lifecycle's decisions: a record the scanner resolved as revoked is then evidence for its
   * finding (as the webhook does). Without them the pull only ingests.
   */
  decisions?: DecisionDeps;
  /** True once the run must stop (a Lambda's remaining time): the walk continues from its cursor next run. */
  timeIsUp?: () => boolean;
  /** Starts each new finding's lifecycle right after its commit (else the sweep does). */
  launcher?: LifecycleLauncher;
}

export interface PullResult extends IngestSummary {
  pages: number;
  /** The newest item the finished walks have ingested: the next run stops there. */
  watermark?: string;
  /** Whether the walk reached what the last run had ingested; otherwise it continues next run. */
  complete: boolean;
  /** Why an incomplete walk stopped: the run's time, or a rate limit that resets later than we may wait. */
  stoppedBy?: 'deadline' | 'rate_limit';
  /** Findings given secret-revoked-at-source evidence by this run. */
  revoked: number;
}

/** A record resolved as revoked at its source: evidence for the finding found under its alias. */
interface RevokedAtSource {
  aliasKey: string;
  actor: string;
  ref: string;
  reason: string;
}

/** An unfinished walk, kept beside the watermark: where to continue, and the newest item seen so far. */
interface Walk {
  next: string;
  newest?: string;
  /** The watermark the walk runs down to: a walk under another watermark is stale. */
  since: string;
}

function readWalk(text: string | undefined): Walk | undefined {
  if (!text) return undefined;
  try {
    const walk = JSON.parse(text) as Partial<Walk>;
    return typeof walk.next === 'string' && typeof walk.since === 'string' ? (walk as Walk) : undefined;
  } catch {
    return undefined; // an unreadable walk only means this run starts from the top
  }
}

const origin = (url: string) => new URL(url).origin;

/**
 * Walks pages newest-first, ingesting each page, until an item at or before the stored watermark.
 * The new watermark is stored only after everything newer was ingested, so a crash or a failed
 * page means the next run repeats work (idempotently), never skips it. After each page the next
 * page's link is kept (`<scope>#walk`), so a run stopped by its deadline or by a rate limit that
 * resets later than we may wait continues there, instead of starting over at the top: a first
 * import larger than one Lambda run still finishes.
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
    revokedAtSource: (item: T) => RevokedAtSource | undefined;
    format: string;
  },
): Promise<PullResult> {
  const watermark = await deps.cursors.getCursor(spec.connector, spec.scope);
  const walkScope = `${spec.scope}#walk`;
  const firstUrl = spec.firstUrl(watermark);
  const saved = readWalk(await deps.cursors.getCursor(spec.connector, walkScope));
  // The token goes only where the configured API is: a resumed link must point there too.
  const resume =
    saved && saved.since === (watermark ?? '') && origin(saved.next) === origin(firstUrl) ? saved : undefined;
  const ctx: ParseContext = { hasher: deps.hasher, receivedAt: deps.clock.now().toISOString() };
  let summary = emptySummary();
  let newest = resume ? resume.newest : watermark;
  let pages = 0;
  let recordNo = 0;
  let revoked = 0;
  let url: string | undefined = resume?.next ?? firstUrl;
  let stoppedBy: PullResult['stoppedBy'];
  while (url) {
    if (deps.timeIsUp?.()) {
      stoppedBy = 'deadline';
      break;
    }
    let response: AxiosResponse<unknown>;
    try {
      response = await requestWithRetry<unknown>(deps.http, { method: 'GET', url, headers: spec.headers }, deps.retry);
    } catch (err) {
      if (err instanceof HttpRetryExhaustedError && err.retryAfterMs !== undefined) {
        stoppedBy = 'rate_limit';
        break;
      }
      throw err;
    }
    if (!Array.isArray(response.data))
      throw new CloseloopError(`${redactUrl(url)}: expected a JSON array of items, got ${typeof response.data}`);
    const page = response.data as T[];
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
    if (deps.decisions) revoked += await applyRevocations(deps.decisions, fresh.map(spec.revokedAtSource));
    for (const item of fresh) {
      const stamp = spec.stampOf(item);
      if (stamp && (!newest || stamp > newest)) newest = stamp;
    }
    const next = nextLink(response.headers.link as string | undefined);
    // Reached what the last run already ingested, or the last page.
    url = fresh.length < page.length ? undefined : next;
    if (url) {
      if (origin(url) !== origin(firstUrl))
        throw new CloseloopError(`${redactUrl(firstUrl)}: the next page is on another host; stopping`);
      await deps.cursors.putCursor(
        spec.connector,
        walkScope,
        JSON.stringify({ next: url, since: watermark ?? '', ...(newest ? { newest } : {}) }),
      );
    }
    if (pages > 10_000) throw new CloseloopError(`${redactUrl(firstUrl)}: more than 10,000 pages; stopping`);
  }
  const complete = url === undefined;
  if (complete) {
    if (newest && newest !== watermark) await deps.cursors.putCursor(spec.connector, spec.scope, newest);
    if (saved || pages > 1) await deps.cursors.putCursor(spec.connector, walkScope, '');
  }
  const kept = complete ? newest : watermark;
  return {
    ...summary,
    pages,
    ...(kept ? { watermark: kept } : {}),
    complete,
    ...(stoppedBy ? { stoppedBy } : {}),
    revoked,
  };
}

/** Records the evidence of every record a page says was revoked at its source; how many findings got it. */
async function applyRevocations(
  decisions: DecisionDeps,
  revocations: Array<RevokedAtSource | undefined>,
): Promise<number> {
  const wanted = revocations.filter((r): r is RevokedAtSource => r !== undefined);
  if (wanted.length === 0) return 0;
  const ids = await decisions.store.resolveAliases(wanted.map((r) => r.aliasKey));
  let applied = 0;
  for (const r of wanted) {
    const findingId = ids.get(r.aliasKey);
    if (!findingId) continue;
    const outcome = await applySourceSignal(decisions, { kind: 'revoked', findingId, ...r });
    if (outcome.outcome === 'applied') applied++;
  }
  return applied;
}

export type GithubScope = { org: string } | { repo: string };

interface GithubAlertStamp {
  number?: number;
  updated_at?: string | null;
  created_at?: string;
  state?: string;
  resolution?: string | null;
  resolution_comment?: string | null;
  resolved_by?: { login?: string } | null;
  url?: string;
  repository?: { full_name?: string };
}

/** `owner/repo` of an alert from the list (its repository object, or its API URL). */
const repositoryOf = (a: GithubAlertStamp, scope: GithubScope) =>
  a.repository?.full_name ??
  /\/repos\/([^/]+\/[^/]+)\//.exec(a.url ?? '')?.[1] ??
  ('repo' in scope ? scope.repo : undefined);

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
  return pullNewestFirst<GithubAlertStamp>(deps, {
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
    revokedAtSource: (a) => {
      const repository = repositoryOf(a, options.scope);
      // closeloop's own resolution, read back, is not the scanner's word.
      if (a.state !== 'resolved' || a.resolution !== 'revoked' || !repository || typeof a.number !== 'number')
        return undefined;
      if ((a.resolution_comment ?? '').startsWith(WRITEBACK_MARK)) return undefined;
      const login = a.resolved_by?.login;
      const by = login ? ` by @${login}` : '';
      return {
        aliasKey: githubAliasKey(repository, a.number),
        actor: login ? `github:${login}` : 'github',
        ref: `github:${repository}#${a.number} resolved as revoked${by}`,
        reason: `GitHub alert ${repository}#${a.number} resolved as revoked${by}`,
      };
    },
    format: 'github',
  });
}

/**
 * Pulls GitGuardian secret incidents: cursor pagination through Link headers, newest first,
 * only incidents dated after the stored watermark.
 */
export function pullGitguardianIncidents(deps: PullDeps, options: { apiUrl: string; token: string }) {
  return pullNewestFirst<{ id?: number; date?: string; status?: string; secret_revoked?: boolean | null }>(deps, {
    connector: 'gitguardian',
    scope: 'incidents',
    firstUrl: (watermark) =>
      `${options.apiUrl.replace(/\/$/, '')}/v1/incidents/secrets?per_page=100&ordering=-date${watermark ? `&date_after=${encodeURIComponent(watermark)}` : ''}`,
    headers: { Authorization: `Token ${options.token}`, Accept: 'application/json' },
    stampOf: (i) => i.date,
    normalize: normalizeGitguardian,
    revokedAtSource: (i) =>
      i.status === 'RESOLVED' && i.secret_revoked === true && typeof i.id === 'number'
        ? {
            aliasKey: gitguardianAliasKey(i.id),
            actor: 'gitguardian',
            ref: `gitguardian:incident/${i.id} resolved, secret revoked`,
            reason: `GitGuardian incident ${i.id} resolved with the secret revoked`,
          }
        : undefined,
    format: 'gitguardian',
  });
}
