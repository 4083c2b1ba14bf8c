import axios from 'axios';
import { fixedClock } from '@core/shared/clock';
import { updateFinding } from '@core/finding/update';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { pullGithubAlerts, pullGitguardianIncidents } from '@connectors/sources/pull';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@connectors/http/retrying-http';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aHasher } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { sendJson, startHttpServer } from '@test/support/http-server';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const waits: number[] = [];
const fastRetry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, sleep: async (ms) => void waits.push(ms) };

type Alert = Record<string, unknown> & { number: number; updated_at?: string };

/** Org alerts (from the fixture), renumbered and dated so there are three pages of two. */
function orgAlerts(): Alert[] {
  const base = readOwnFixtureJson<Alert[]>('github', 'org-secret-scanning-alerts.json').find(
    (a) => a.state === 'open',
  )!;
  return Array.from({ length: 6 }, (_, i) => ({
    ...base,
    number: 100 + i,
    secret: `ghp_closeloopTESTfake${i}0000000000000000`,
    updated_at: `2026-10-${String(20 - i).padStart(2, '0')}T00:00:00Z`,
  }));
}

describe('GitHub secret scanning pull connector (local HTTP server)', () => {
  it('follows Link pagination, honours 429 Retry-After and a rate-limit 403, and keeps a watermark', async () => {
    const alerts = orgAlerts();
    let throttledOnce = false;
    let rateLimitedOnce = false;
    const server = await startHttpServer((req, res, base) => {
      const url = new URL(req.url!, base);
      const page = Number(url.searchParams.get('page') ?? '1');
      if (page === 2 && !throttledOnce) {
        throttledOnce = true;
        return sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '2' });
      }
      if (page === 3 && !rateLimitedOnce) {
        rateLimitedOnce = true;
        return sendJson(
          res,
          403,
          { message: 'API rate limit exceeded' },
          { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1) },
        );
      }
      const items = alerts.slice((page - 1) * 2, page * 2);
      const next = page < 3 ? `<${base}/orgs/acme/secret-scanning/alerts?per_page=2&page=${page + 1}>; rel="next"` : '';
      sendJson(res, 200, items, next ? { link: next } : {});
    });
    try {
      const { store } = await aFreshStore();
      const deps = { http: axios.create(), store, cursors: store, clock, hasher: aHasher(), retry: fastRetry };
      const first = await pullGithubAlerts(deps, { apiUrl: server.base, token: 'test-token', scope: { org: 'acme' } });
      expect(first).toMatchObject({ received: 6, created: 6, pages: 3, watermark: '2026-10-20T00:00:00Z' });
      expect(waits.some((ms) => ms >= 2000)).toBe(true);
      expect(server.requests[0]!.headers.authorization).toBe('Bearer test-token');
      expect(server.requests[0]!.url).toBe(
        '/orgs/acme/secret-scanning/alerts?per_page=100&sort=updated&direction=desc',
      );
      expect(await store.getCursor('github-secret-scanning', 'org:acme')).toBe('2026-10-20T00:00:00Z');

      // A second run stops at the watermark: one page read, nothing new.
      const before = server.requests.length;
      const second = await pullGithubAlerts(deps, { apiUrl: server.base, token: 'test-token', scope: { org: 'acme' } });
      expect(second).toMatchObject({ received: 0, created: 0, pages: 1 });
      expect(server.requests.length - before).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('fails with the status, not the token, when the API refuses the credentials', async () => {
    const server = await startHttpServer((_req, res) => sendJson(res, 401, { message: 'Bad credentials' }));
    try {
      const { store } = await aFreshStore();
      const deps = { http: axios.create(), store, cursors: store, clock, hasher: aHasher(), retry: fastRetry };
      const err = await pullGithubAlerts(deps, {
        apiUrl: server.base,
        token: 'ghp_secretTokenValue',
        scope: { repo: 'acme/api' },
      }).catch((e: Error) => e);
      expect((err as Error).message).toBe(`${server.base}/repos/acme/api/secret-scanning/alerts: HTTP 401`);
      expect(await store.getCursor('github-secret-scanning', 'repo:acme/api')).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe('a pull that cannot finish in one run (a scheduled Lambda has 15 minutes)', () => {
  /** Three pages of two alerts, newest first, with Link headers; `limited` pages answer 403 rate-limited once. */
  async function threePages(limited: number[] = []) {
    const alerts = orgAlerts();
    const throttled = new Set<number>();
    return startHttpServer((req, res, base) => {
      const url = new URL(req.url!, base);
      const page = Number(url.searchParams.get('page') ?? '1');
      if (limited.includes(page) && !throttled.has(page)) {
        throttled.add(page);
        // Resets in an hour: longer than a run may wait.
        const reset = String(Math.floor(Date.now() / 1000) + 3600);
        return sendJson(
          res,
          403,
          { message: 'API rate limit exceeded' },
          { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        );
      }
      const next = page < 3 ? `<${base}/orgs/acme/secret-scanning/alerts?per_page=2&page=${page + 1}>; rel="next"` : '';
      sendJson(res, 200, alerts.slice((page - 1) * 2, page * 2), next ? { link: next } : {});
    });
  }

  it('stops at its deadline and the next run continues from the page it reached; the watermark moves only at the end', async () => {
    const server = await threePages();
    try {
      const { store } = await aFreshStore();
      let pagesAllowed = 1;
      let pagesRead = 0;
      const deps = {
        http: axios.create(),
        store,
        cursors: store,
        clock,
        hasher: aHasher(),
        retry: fastRetry,
        timeIsUp: () => pagesRead++ >= pagesAllowed,
      };
      const options = { apiUrl: server.base, token: 'test-token', scope: { org: 'acme' } };
      const first = await pullGithubAlerts(deps, options);
      expect(first).toMatchObject({ received: 2, pages: 1, complete: false, stoppedBy: 'deadline' });
      expect(first.watermark).toBeUndefined();
      expect(await store.getCursor('github-secret-scanning', 'org:acme')).toBeUndefined();

      pagesRead = 0;
      pagesAllowed = 10;
      const before = server.requests.length;
      const second = await pullGithubAlerts(deps, options);
      expect(second).toMatchObject({
        received: 4,
        created: 4,
        pages: 2,
        complete: true,
        watermark: '2026-10-20T00:00:00Z',
      });
      // It began where the first run stopped, not at the top.
      expect(server.requests[before]!.url).toBe('/orgs/acme/secret-scanning/alerts?per_page=2&page=2');
      expect(await store.getCursor('github-secret-scanning', 'org:acme')).toBe('2026-10-20T00:00:00Z');
      expect((await store.list()).length).toBe(6);
    } finally {
      await server.close();
    }
  });

  it('stops cleanly at a rate limit that resets later than it may wait, and continues next run', async () => {
    const server = await threePages([2]);
    try {
      const { store } = await aFreshStore();
      const deps = { http: axios.create(), store, cursors: store, clock, hasher: aHasher(), retry: fastRetry };
      const options = { apiUrl: server.base, token: 'test-token', scope: { org: 'acme' } };
      expect(await pullGithubAlerts(deps, options)).toMatchObject({
        received: 2,
        complete: false,
        stoppedBy: 'rate_limit',
      });
      expect(await pullGithubAlerts(deps, options)).toMatchObject({ received: 4, pages: 2, complete: true });
    } finally {
      await server.close();
    }
  });
});

describe('a pulled alert resolved as revoked at GitHub', () => {
  it('is evidence for its finding, which resumes its owner-fix wait: verification decides', async () => {
    const alerts = orgAlerts().slice(0, 1);
    const server = await startHttpServer((_req, res) => sendJson(res, 200, alerts));
    try {
      const { store } = await aFreshStore();
      const signals: string[] = [];
      const decisions = {
        store,
        clock,
        policy: DEFAULT_POLICY,
        signaller: { signal: async (f: { id: string }) => (signals.push(f.id), 'resumed') },
      };
      const deps = {
        http: axios.create(),
        store,
        cursors: store,
        clock,
        hasher: aHasher(),
        retry: fastRetry,
        decisions,
      };
      const options = { apiUrl: server.base, token: 'test-token', scope: { org: 'acme' } };
      await pullGithubAlerts(deps, options);
      const [finding] = await store.list();
      await updateFinding(store, clock, finding!.id, (f) => ({
        finding: { ...f, lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix' } },
        events: [],
      }));
      alerts[0] = {
        ...alerts[0]!,
        state: 'resolved',
        resolution: 'revoked',
        resolved_by: { login: 'dana' },
        updated_at: '2026-10-25T00:00:00Z',
      };
      expect(await pullGithubAlerts(deps, options)).toMatchObject({ updated: 1, revoked: 1 });
      expect((await store.get(finding!.id))!).toMatchObject({
        status: 'open',
        evidence: [expect.objectContaining({ kind: 'secret_revoked_at_source', recordedBy: 'github:dana' })],
      });
      expect(signals).toEqual([finding!.id]);
    } finally {
      await server.close();
    }
  });
});

/** A page of GET /v1/incidents/secrets as the API answers it (test/fixtures/gitguardian). */
interface RecordedResponse {
  response: { headers: Record<string, string>; body: Array<Record<string, unknown>> };
}

describe('GitGuardian incidents pull connector (API responses served locally)', () => {
  it('pages with the cursor links and ingests every incident', async () => {
    const { response: recorded } = readOwnFixtureJson<RecordedResponse>('gitguardian', 'list-incidents.json');
    const incidents = recorded.body;
    const server = await startHttpServer((req, res, base) => {
      const url = new URL(req.url!, base);
      if (!url.searchParams.get('cursor')) {
        // The API's Link header, pointed at the local server.
        const link = recorded.headers.link!.replace('https://api.gitguardian.com', base);
        return sendJson(res, 200, incidents.slice(0, 3), { link });
      }
      sendJson(res, 200, incidents.slice(3));
    });
    try {
      const { store } = await aFreshStore();
      const deps = { http: axios.create(), store, cursors: store, clock, hasher: aHasher(), retry: fastRetry };
      const result = await pullGitguardianIncidents(deps, { apiUrl: server.base, token: 'gg-token' });
      expect(result).toMatchObject({ received: 5, pages: 2, rejected: 0 });
      expect(result.created + result.skipped + result.updated).toBe(5);
      expect(server.requests[0]!.headers.authorization).toBe('Token gg-token');
      expect(server.requests[1]!.url).toContain('cursor=');
      expect(await store.getCursor('gitguardian', 'incidents')).toBe(result.watermark);
    } finally {
      await server.close();
    }
  });
});
