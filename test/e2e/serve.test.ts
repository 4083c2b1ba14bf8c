import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { signBody } from '@connectors/sinks/webhook-signature';
import { aCliEnvironment } from '@test/support/cli';
import { readOwnFixtureJson } from '@test/support/fixtures';

const BIN = resolve(__dirname, '..', '..', 'bin', 'closeloop.js');
const SAMPLES = resolve(__dirname, '..', '..', 'samples');
const JIRA_SECRET = 'serve-e2e-jira-webhook-secret';

/**
 * A request written by hand (fetch will not set Host, nor split a body where we want): the body
 * goes out in `chunks`, each flushed before the next.
 */
function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; chunks?: Buffer[] } = {},
): Promise<{ status: number; body: string }> {
  const { port } = new URL(base);
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    void (async () => {
      for (const chunk of options.chunks ?? []) {
        req.write(chunk);
        await new Promise((r) => setTimeout(r, 30));
      }
      req.end();
    })();
  });
}

describe('closeloop serve (the local HTTP API)', () => {
  const cli = aCliEnvironment({
    env: {
      CLOSELOOP_POLICY: join(SAMPLES, 'policy.json'),
      CLOSELOOP_NOW: '2026-11-22T10:00:00.000Z',
      JIRA_WEBHOOK_SECRET: JIRA_SECRET,
    },
  });
  let server: ChildProcess;
  let url: string;
  let output = '';

  beforeAll(async () => {
    cli.run('ingest', join(SAMPLES, 'github-secret-scanning-acme.json'), join(SAMPLES, 'gitleaks-payments-api.json'));
    cli.run('tick');
    server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--tick-interval', '0'], {
      env: cli.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolveUrl, reject) => {
      const timeout = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 60_000);
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) {
          clearTimeout(timeout);
          resolveUrl(m[1]!);
        }
      });
      server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
  });

  afterAll(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });

  const post = (path: string, principal: string | undefined, body: unknown = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(principal ? { 'x-closeloop-principal': principal } : {}) },
      body: JSON.stringify(body),
    });

  it('lists findings and shows one with its events, as the deployed API does', async () => {
    const list = (await (await fetch(`${url}/findings?status=awaiting_approval`)).json()) as Array<{
      id: string;
      status: string;
    }>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((f) => f.status === 'awaiting_approval')).toBe(true);
    const one = (await (await fetch(`${url}/findings/${list[0]!.id}`)).json()) as {
      id: string;
      events: Array<{ action: string }>;
    };
    expect(one.events.map((e) => e.action)).toContain('approval.requested');
    expect((await fetch(`${url}/findings?status=closed`)).status).toBe(400);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
  });

  it('refuses an unidentified caller and an unauthorised one (403 with the reason), then lets an approver approve', async () => {
    const [waiting] = (await (await fetch(`${url}/findings?status=awaiting_approval`)).json()) as Array<{ id: string }>;
    const anonymous = await post(`/findings/${waiting!.id}/approve`, undefined);
    expect(anonymous.status).toBe(403);
    const mallory = await post(`/findings/${waiting!.id}/approve`, 'mallory');
    expect(mallory.status).toBe(403);
    expect(((await mallory.json()) as { message: string }).message).toMatch(
      /^mallory does not hold the (approver|security-lead) role/,
    );
    // The header maps through the policy's bindings like a deployed caller: a role session named
    // "bob" is the role, not bob.
    const forged = await post(`/findings/${waiting!.id}/approve`, 'arn:aws:sts::123456789012:assumed-role/Any/bob');
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { message: string }).message).toMatch(
      /^arn:aws:iam::123456789012:role\/Any does not hold the (approver|security-lead) role/,
    );
    const bob = await post(`/findings/${waiting!.id}/approve`, 'bob', { reason: 'rotate it' });
    expect(bob.status).toBe(200);
    expect(((await bob.json()) as { message: string }).message).toBe(
      `approved by bob; ${waiting!.id}: waiting at AwaitOwnerFix`,
    );
  });

  it('serves reports directly and as exports: 202, pending or done, then the file from the download link', async () => {
    const direct = await fetch(`${url}/reports/ownership?format=csv`);
    expect(direct.status).toBe(200);
    const asked = await post('/reports/ownership/exports?format=csv', 'auditor-jane');
    expect(asked.status).toBe(202);
    const { id, statusPath } = (await asked.json()) as { id: string; statusPath: string };
    let status: { status: string; downloadUrl?: string; sha256?: string; rows?: number } = { status: 'pending' };
    for (let i = 0; i < 100 && status.status === 'pending'; i++) {
      status = (await (await fetch(`${url}${statusPath}`)).json()) as typeof status;
      if (status.status === 'pending') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({
      status: 'done',
      downloadUrl: `${url}/reports/exports/${id}/file`,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const file = await fetch(status.downloadUrl!);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="closeloop-ownership-2026-11-22.csv"');
    const text = await file.text();
    // The same report as the direct answer at the same hub clock.
    expect(text).toBe(await direct.text());
    expect((await fetch(`${url}/reports/exports/${'0'.repeat(8)}-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${url}/reports/exports/nope/file`)).status).toBe(404);
  });

  describe('edge cases', () => {
    const host = () => new URL(url).host;

    it('verifies a webhook signature over the raw bytes, a multi-byte character split between two chunks', async () => {
      const delivery = readOwnFixtureJson<{ timestamp: number; issue: { fields: { summary: string } } }>(
        'jira',
        'webhook-issue-updated.json',
      );
      delivery.issue.fields.summary = 'Rotate the 鍵 (key) — ü';
      // Signed a minute before the hub's clock: inside the replay window.
      delivery.timestamp = Date.parse('2026-11-22T09:59:00.000Z');
      const body = Buffer.from(JSON.stringify(delivery));
      const cut = body.indexOf(Buffer.from('鍵')) + 1; // inside the character's three bytes
      const answer = await rawRequest(url, '/webhooks/jira', {
        method: 'POST',
        headers: {
          host: host(),
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-hub-signature': signBody(body, JIRA_SECRET),
        },
        chunks: [body.subarray(0, cut), body.subarray(cut)],
      });
      expect(answer.status).toBe(200);
    });

    it('answers 413 to a body over the limit, 400 to invalid UTF-8', async () => {
      const big = Buffer.alloc(64 * 1024 + 1, 'a');
      expect(
        await rawRequest(url, '/findings/NHI-0000000000000000/done', {
          method: 'POST',
          headers: { host: host(), 'content-type': 'application/json', 'content-length': String(big.length) },
          chunks: [big],
        }),
      ).toEqual({ status: 413, body: JSON.stringify({ message: 'the request body is larger than 65536 bytes' }) });
      const latin1 = Buffer.from('{"note":"caf\xe9"}', 'latin1');
      expect(
        await rawRequest(url, '/findings/NHI-0000000000000000/done', {
          method: 'POST',
          headers: { host: host(), 'content-type': 'application/json', 'x-closeloop-principal': 'bob' },
          chunks: [latin1],
        }),
      ).toEqual({ status: 400, body: JSON.stringify({ message: 'the request body is not UTF-8' }) });
    });

    it('answers 400 to malformed percent-encoding, 404 to the audit trail of an unknown finding', async () => {
      expect(await rawRequest(url, '/findings/%E0%A4%A', { headers: { host: host() } })).toEqual({
        status: 400,
        body: JSON.stringify({ message: 'the request path is not a valid URL (malformed percent-encoding)' }),
      });
      expect(
        await rawRequest(url, '/reports/audit?finding=NHI-00000000000000FF', { headers: { host: host() } }),
      ).toEqual({
        status: 404,
        body: JSON.stringify({ message: 'no finding NHI-00000000000000FF' }),
      });
    });

    it('refuses a foreign Host (DNS rebinding) and a foreign Origin (cross-site text/plain POST)', async () => {
      const rebound = await rawRequest(url, '/findings', {
        headers: { host: `attacker.example:${new URL(url).port}` },
      });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toContain('is not this server');
      const [waiting] = (await (await fetch(`${url}/findings?status=awaiting_approval`)).json()) as Array<{
        id: string;
      }>;
      const crossSite = await rawRequest(url, `/findings/${waiting!.id}/approve`, {
        method: 'POST',
        headers: {
          host: host(),
          origin: 'https://attacker.example',
          'content-type': 'text/plain',
          'x-closeloop-principal': 'bob',
        },
        chunks: [Buffer.from('{}')],
      });
      expect(crossSite.status).toBe(403);
      expect(crossSite.body).toContain('is another site');
      const stillWaiting = (await (await fetch(`${url}/findings/${waiting!.id}`)).json()) as { status: string };
      expect(stillWaiting.status).toBe('awaiting_approval');
      // The hub's own clients: loopback names, same-origin pages.
      const own = await rawRequest(url, '/findings', {
        headers: { host: `localhost:${new URL(url).port}`, origin: url },
      });
      expect(own.status).toBe(200);
    });
  });

  it('stops cleanly on SIGTERM', async () => {
    server.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => server.once('exit', r));
    expect(code).toBe(0);
    expect(output).toContain('closeloop serve: stopped');
  });
});
