import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { isAxiosError } from 'axios';
import { backoffDelayMs, sleep } from '@core/shared/backoff';
import { AmbiguousOutcomeError, CloseloopError } from '@core/shared/errors';

/** An HTTP API kept failing or asked us to wait longer than we may. */
export class HttpRetryExhaustedError extends CloseloopError {
  constructor(
    readonly url: string,
    readonly status: number | undefined,
    options?: ErrorOptions & {
      /** How long the server asked us to wait (Retry-After, rate-limit reset), when it said. */
      retryAfterMs?: number;
    },
  ) {
    super(`${redactUrl(url)}: ${status ? `HTTP ${status}` : 'no response'} after retries`, options);
    this.name = 'HttpRetryExhaustedError';
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** How long the server asked us to wait, when it said: a later run should not come sooner. */
  readonly retryAfterMs?: number;
}

/** The API refused the request for a reason retrying cannot fix (401, 404, 422 …). */
export class HttpRequestFailedError extends CloseloopError {
  /** A 4xx: the server refused the request, so it did not act on it. */
  readonly notApplied: boolean;
  constructor(
    readonly url: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(`${redactUrl(url)}: HTTP ${status}`, options);
    this.name = 'HttpRequestFailedError';
    this.notApplied = status >= 400 && status < 500;
  }
}

/** Query strings can carry tokens; messages show only the path. */
export function redactUrl(url: string): string {
  return url.replace(/\?.*$/, '');
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest wait a Retry-After or rate-limit reset may impose before we give up. */
  maxWaitMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxWaitMs: 120_000,
  sleep,
  now: Date.now,
};

/**
 * How long the server asked us to wait, if it did: `Retry-After` (seconds or a date), or
 * an exhausted rate limit with `X-RateLimit-Reset` (epoch seconds; GitHub, Jira).
 */
export function serverRequestedWaitMs(
  response: Pick<AxiosResponse, 'headers' | 'status'>,
  now: number,
): number | undefined {
  const headers = response.headers as Record<string, string | undefined>;
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (!Number.isNaN(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const remaining = headers['x-ratelimit-remaining'];
  const reset = headers['x-ratelimit-reset'];
  if (remaining === '0' && reset !== undefined) {
    const asNumber = Number(reset);
    const resetAt = Number.isNaN(asNumber) ? Date.parse(reset) : asNumber * 1000;
    if (!Number.isNaN(resetAt)) return Math.max(0, resetAt - now);
  }
  return undefined;
}

function retryable(status: number | undefined, rateLimited: boolean): boolean {
  if (status === undefined) return true; // network error or timeout
  return status === 429 || status >= 500 || (status === 403 && rateLimited);
}

/**
 * Sends a request; retries network errors, timeouts, 429, 5xx and rate-limit 403s with
 * exponential backoff and jitter, waiting as long as the server asks when it says.
 *
 * A request that is not idempotent (a create) is retried only when the server certainly did
 * not act on it (429, rate-limit 403). A timeout, a lost connection or a 5xx may have come
 * after the server acted, so it throws `AmbiguousOutcomeError` and the caller reconciles.
 */
export async function requestWithRetry<T>(
  http: AxiosInstance,
  config: AxiosRequestConfig,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  options: { idempotent?: boolean } = {},
): Promise<AxiosResponse<T>> {
  const url = `${config.baseURL ?? http.defaults.baseURL ?? ''}${config.url ?? ''}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await http.request<T>({ timeout: 30_000, ...config });
    } catch (err) {
      if (!isAxiosError(err)) throw err;
      const response = err.response;
      const requested = response ? serverRequestedWaitMs(response, policy.now()) : undefined;
      const status = response?.status;
      if (!retryable(status, requested !== undefined)) throw new HttpRequestFailedError(url, status!, { cause: err });
      const certainlyNotActedOn = status === 429 || (status === 403 && requested !== undefined);
      if (options.idempotent === false && !certainlyNotActedOn) {
        throw new AmbiguousOutcomeError(
          `${redactUrl(url)}: ${status ? `HTTP ${status}` : (err.code ?? 'no response')}; the request may or may not have taken effect`,
          { cause: err },
        );
      }
      if (attempt + 1 >= policy.maxAttempts || (requested !== undefined && requested > policy.maxWaitMs)) {
        throw new HttpRetryExhaustedError(url, status, {
          cause: err,
          ...(requested !== undefined ? { retryAfterMs: requested } : {}),
        });
      }
      const delay =
        requested !== undefined
          ? requested + backoffDelayMs(0, 100)
          : backoffDelayMs(attempt, policy.baseDelayMs, policy.maxDelayMs);
      await policy.sleep(delay);
    }
  }
}

/** The `rel="next"` URL of an RFC 8288 Link header. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2]!.split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

/** Pages of a list API that paginates with Link headers (GitHub, GitGuardian). */
export async function* linkPages<T>(
  http: AxiosInstance,
  firstUrl: string,
  headers: Record<string, string>,
  policy?: RetryPolicy,
): AsyncGenerator<T[]> {
  let url: string | undefined = firstUrl;
  let pages = 0;
  while (url) {
    const response: AxiosResponse<T[]> = await requestWithRetry<T[]>(http, { method: 'GET', url, headers }, policy);
    const body = response.data as unknown;
    if (!Array.isArray(body))
      throw new CloseloopError(`${redactUrl(url)}: expected a JSON array of items, got ${typeof body}`);
    yield body as T[];
    url = nextLink(response.headers.link as string | undefined);
    if (++pages > 10_000) throw new CloseloopError(`${redactUrl(firstUrl)}: more than 10,000 pages; stopping`);
  }
}
