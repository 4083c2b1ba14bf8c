import axios from 'axios';
import { fixedClock } from '@core/shared/clock';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@connectors/http/retrying-http';
import { pullGitguardianIncidents } from '@connectors/sources/pull';
import { aFreshStore } from '@test/support/dynamo';
import { aHasher } from '@test/support/factories';
import { sendJson, startHttpServer } from '@test/support/http-server';
import { readCassette } from '@test/support/shared-fixtures';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const fastRetry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, sleep: async () => undefined };

describe('GitGuardian incidents pull connector on responses recorded from the real API (ggmcp cassette)', () => {
  it('pages with the recorded cursor links and ingests every incident', async () => {
    const [recorded] = readCassette('scanners', 'gitguardian', 'ggmcp-test_list_incidents_basic.yaml');
    const incidents = recorded!.body as Array<Record<string, unknown>>;
    const server = await startHttpServer((req, res, base) => {
      const url = new URL(req.url!, base);
      if (!url.searchParams.get('cursor')) {
        // The recorded Link header, pointed at the local server.
        const link = recorded!.headers.link!.replace('https://api.gitguardian.com', base);
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
      expect(server.requests[1]!.url).toContain('cursor=');
      expect(await store.getCursor('gitguardian', 'incidents')).toBe(result.watermark);
    } finally {
      await server.close();
    }
  });
});
