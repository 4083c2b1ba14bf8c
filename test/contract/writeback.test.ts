import { readFileSync } from 'node:fs';
import axios from 'axios';
import { handleGithubWebhook, type GithubWebhookDeps } from '@connectors/api/github-webhook';
import { signBody } from '@connectors/sinks/webhook-signature';
import { GitguardianWriter } from '@connectors/writeback/gitguardian';
import { createFinding } from '@core/finding/merge';
import { updateFinding } from '@core/finding/update';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { SingleTable } from '@core/store/table';
import { aFreshStore } from '@test/support/dynamo';
import { aHasher, anObservation } from '@test/support/factories';
import { startHttpServer } from '@test/support/http-server';
import { fixturePath, readCassette } from '@test/support/shared-fixtures';
import { FAST_RETRY } from '@test/support/tickets';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const SECRET = 'contract-webhook-secret-000000000';

describe('the GitHub webhook on GitHub’s own secret_scanning_alert payload (octokit/webhooks example)', () => {
  it('verifies the raw bytes as GitHub signs them and reopens the resolved finding of the alert', async () => {
    const raw = readFileSync(
      fixturePath('scanners', 'github-secret-scanning', 'webhook-secret_scanning_alert.reopened.payload.json'),
      'utf8',
    );
    const { client, tableName, store } = await aFreshStore();
    const deps: GithubWebhookDeps = {
      store,
      clock,
      policy: DEFAULT_POLICY,
      signaller: { signal: async () => 'resumed' },
      tickets: new DynamoTicketStore(new SingleTable(client, tableName)),
      secret: SECRET,
      hasher: aHasher(),
    };
    const headers = (body: string, id: string) => ({
      'X-Hub-Signature-256': signBody(body, SECRET),
      'X-GitHub-Event': 'secret_scanning_alert',
      'X-GitHub-Delivery': id,
    });
    // The alert's finding first (a `created` delivery of the same alert), then closed.
    const created = raw.replace('"action": "reopened"', '"action": "created"');
    const first = JSON.parse((await handleGithubWebhook(created, headers(created, 'c-1'), deps)).body);
    expect(first).toMatchObject({ outcome: 'recorded', ingest: { created: 1, rejected: 0 } });
    await updateFinding(store, clock, first.findingId, (f) => ({
      finding: { ...f, status: 'resolved' },
      events: [{ actor: 'closeloop', action: 'finding.resolved', to: 'resolved', reason: 'verified' }],
    }));

    const reopened = await handleGithubWebhook(raw, headers(raw, 'r-1'), deps);
    expect(reopened.statusCode).toBe(200);
    expect(JSON.parse(reopened.body)).toMatchObject({ outcome: 'applied', findingId: first.findingId });
    expect(await store.get(first.findingId)).toMatchObject({
      status: 'reopened',
      sources: [
        expect.objectContaining({ ref: { system: 'github', repository: 'Codertocat/Hello-World', alert: 191 } }),
      ],
    });
  });
});

describe('the GitGuardian write-back on responses recorded from the real API (ggmcp cassettes)', () => {
  it('sends the note in the body the API took, and reads the incident as the API returns it', async () => {
    const [incident] = readCassette('scanners', 'gitguardian', 'ggmcp-test_get_incident.yaml').slice(-1);
    const [noteCreated] = readCassette('scanners', 'gitguardian', 'ggmcp-test_create_and_update_incident_note.yaml');
    const bodies: Array<{ method: string; path: string; body: unknown }> = [];
    const server = await startHttpServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const path = new URL(req.url!, 'http://x').pathname;
        bodies.push({ method: req.method!, path, body: raw ? JSON.parse(raw) : undefined });
        const answer = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method === 'GET' && path.endsWith('/notes')) return answer(200, []);
        if (req.method === 'GET') return answer(incident!.status, incident!.body);
        if (path.endsWith('/notes')) return answer(noteCreated!.status, noteCreated!.body);
        answer(200, { ...(incident!.body as object), status: 'RESOLVED' });
      });
    });
    try {
      const recorded = incident!.body as { id: number; status: string };
      const id = recorded.id;
      const writer = new GitguardianWriter(axios.create(), { apiUrl: server.base, token: 'gg', retry: FAST_RETRY });
      const finding = createFinding(anObservation(), new Date(), 'test').finding;
      const request = (seq: number) => ({
        workId: `${finding.id}-${seq}`,
        op: 'resolve' as const,
        finding,
        text: `closeloop: ${finding.id} resolved [${finding.id}-${seq}]`,
        revoked: true,
      });
      // The recorded incident is resolved already: it is not resolved again (the API would refuse), only noted.
      expect(recorded.status).toBe('RESOLVED');
      expect(await writer.write({ system: 'gitguardian', incident: id }, request(3))).toEqual({
        outcome: 'written',
        detail: `GitGuardian incident ${id} noted (resolved)`,
      });
      const note = bodies.find((b) => b.method === 'POST' && b.path.endsWith('/notes'))!;
      // The same fields as the request the API answered 201 to.
      expect(Object.keys(note.body as object)).toEqual(Object.keys(noteCreated!.requestBody as object));
      expect(bodies.some((b) => b.path.endsWith('/resolve'))).toBe(false);

      // The same incident still open: resolved with secret_revoked.
      (incident!.body as { status: string }).status = 'TRIGGERED';
      expect(await writer.write({ system: 'gitguardian', incident: id }, request(4))).toEqual({
        outcome: 'written',
        detail: `GitGuardian incident ${id} resolved (secret revoked)`,
      });
      expect(bodies.find((b) => b.path.endsWith('/resolve'))!.body).toEqual({ secret_revoked: true });
    } finally {
      await server.close();
    }
  });
});
