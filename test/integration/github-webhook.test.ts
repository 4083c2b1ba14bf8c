import { handleGithubWebhook, type GithubWebhookDeps } from '@connectors/api/github-webhook';
import { signBody } from '@connectors/sinks/webhook-signature';
import { updateFinding } from '@core/finding/update';
import type { LifecycleSignaller } from '@core/lifecycle/decisions';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { DynamoWritebackStore } from '@core/store/dynamo-writeback-store';
import { SingleTable } from '@core/store/table';
import { aHasher } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { readOwnFixtureJson } from '@test/support/fixtures';

const SECRET = 'github-webhook-secret-0123456789';
const clock = fixedClock('2026-11-01T12:00:00.000Z');
type Hook = { action: string; alert: Record<string, unknown>; repository: { full_name: string }; sender?: unknown };
const resolvedHook = () =>
  readOwnFixtureJson<Hook>('scanners', 'github', 'webhook-secret_scanning_alert-resolved.json');
/** The fixture's alert as an event: `created` (open, no resolution) unless overridden. */
function hook(action: string, alert: Record<string, unknown> = {}): string {
  const base = resolvedHook();
  const open = { resolution: null, resolved_by: null, resolved_at: null, validity: 'active' };
  return JSON.stringify({
    ...base,
    action,
    alert: { ...base.alert, ...(action === 'resolved' ? {} : open), ...alert },
  });
}
const signed = (body: string, delivery: string, event = 'secret_scanning_alert') => ({
  'X-Hub-Signature-256': signBody(body, SECRET),
  'X-GitHub-Delivery': delivery,
  'X-GitHub-Event': event,
  'Content-Type': 'application/json',
});

async function aWorld() {
  const { client, tableName, store } = await aFreshStore();
  const table = new SingleTable(client, tableName);
  const signals: Array<{ id: string; resumeAt: string; kind?: string }> = [];
  const signaller: LifecycleSignaller = {
    signal: async (finding, resumeAt, signal) => {
      signals.push({ id: finding.id, resumeAt, ...(signal.kind ? { kind: signal.kind } : {}) });
      return 'resumed';
    },
  };
  const deps: GithubWebhookDeps = {
    store,
    clock,
    policy: DEFAULT_POLICY,
    signaller,
    tickets: new DynamoTicketStore(table),
    secret: SECRET,
    hasher: aHasher(),
  };
  const post = async (body: string, headers: Record<string, string>) => {
    const r = await handleGithubWebhook(body, headers, deps);
    return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
  };
  /** The alert's finding, created by a `created` delivery and waiting for its owner. */
  async function aWaitingFinding(): Promise<string> {
    const created = await post(hook('created'), signed(hook('created'), 'd-created'));
    const id = created.body.findingId as string;
    await updateFinding(store, clock, id, (f) => ({
      finding: { ...f, owner: 'team-payments', lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix' } },
      events: [{ actor: 'closeloop', action: 'owner.assigned', reason: 'team-payments' }],
    }));
    return id;
  }
  return { store, deps, post, signals, aWaitingFinding, writeback: new DynamoWritebackStore(table) };
}

describe('POST /webhooks/github (secret_scanning_alert)', () => {
  it('refuses a missing or wrong X-Hub-Signature-256 with 401 and changes nothing', async () => {
    const w = await aWorld();
    const body = hook('created');
    expect((await w.post(body, { 'X-GitHub-Event': 'secret_scanning_alert' })).status).toBe(401);
    expect(
      (await w.post(body, { ...signed(body, 'd1'), 'X-Hub-Signature-256': signBody(body, 'another-secret-00000') }))
        .status,
    ).toBe(401);
    expect((await w.post(`${body} `, signed(body, 'd1'))).status).toBe(401);
    expect(await w.store.list()).toEqual([]);
  });

  it('refuses every delivery while no secret is configured', async () => {
    const w = await aWorld();
    const body = hook('created');
    const r = await handleGithubWebhook(body, signed(body, 'd1'), { ...w.deps, secret: undefined });
    expect([r.statusCode, JSON.parse(r.body).message]).toEqual([
      503,
      'GitHub webhooks are not configured (GITHUB_WEBHOOK_SECRET)',
    ]);
  });

  it('answers GitHub’s ping and acknowledges events it does not handle', async () => {
    const w = await aWorld();
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    expect(await w.post(ping, signed(ping, 'p1', 'ping'))).toEqual({
      status: 200,
      body: { outcome: 'pong', message: 'webhook reached closeloop' },
    });
    expect((await w.post(ping, signed(ping, 'p2', 'push'))).status).toBe(202);
  });

  it('records a new alert as a finding, once: a redelivery and a replay under a new delivery id do nothing', async () => {
    const w = await aWorld();
    const body = hook('created');
    const first = await w.post(body, signed(body, 'd-1'));
    expect(first).toMatchObject({
      status: 200,
      body: { outcome: 'recorded', action: 'created', ingest: { created: 1 } },
    });
    const finding = (await w.store.get(first.body.findingId as string))!;
    expect(finding.sources[0]).toMatchObject({
      scanner: 'github-secret-scanning',
      ref: { system: 'github', repository: 'acme/payments-api', alert: 1 },
    });
    const events = (await w.store.events(finding.id)).length;
    expect((await w.post(body, signed(body, 'd-1'))).body).toMatchObject({ outcome: 'duplicate' });
    expect((await w.post(body, signed(body, 'd-2'))).body).toMatchObject({ outcome: 'duplicate' });
    expect((await w.store.events(finding.id)).length).toBe(events);
  });

  it('takes an alert resolved as revoked for evidence to verify, never a closing by itself', async () => {
    const w = await aWorld();
    const id = await w.aWaitingFinding();
    const body = hook('resolved');
    const r = await w.post(body, signed(body, 'd-resolved'));
    expect(r.body).toMatchObject({ outcome: 'applied', findingId: id });
    const after = (await w.store.get(id))!;
    expect(after.status).toBe('open'); // verification decides, in the lifecycle
    expect(after.evidence).toEqual([
      expect.objectContaining({
        kind: 'secret_revoked_at_source',
        ref: 'github:acme/payments-api#1 resolved as revoked by @dana',
        recordedBy: 'github:dana',
      }),
    ]);
    expect(w.signals).toEqual([{ id, resumeAt: 'owner_signal', kind: 'fixed' }]);
  });

  it('notes an alert resolved for another reason on the ticket, and keeps the finding open', async () => {
    const w = await aWorld();
    const id = await w.aWaitingFinding();
    const body = hook('resolved', { resolution: 'false_positive', resolution_comment: 'a unit test fixture' });
    await w.post(body, signed(body, 'd-fp'));
    const after = (await w.store.get(id))!;
    expect(after.status).toBe('open');
    expect(after.evidence).toEqual([]);
    const noted = (await w.store.events(id)).find((e) => e.action === 'source.resolved')!;
    expect(noted).toMatchObject({
      actor: 'github:dana',
      reason: expect.stringContaining(
        'GitHub alert acme/payments-api#1 resolved as false_positive by @dana: a unit test fixture',
      ),
    });
    expect(w.signals).toEqual([]);
  });

  it('reopens a closed finding when its alert is reopened, and ignores closeloop’s own write-back coming back', async () => {
    const w = await aWorld();
    const id = await w.aWaitingFinding();
    // GitHub tells us about a resolution closeloop wrote (its comment): not evidence, even on an open finding.
    const echo = hook('resolved', { resolution_comment: `closeloop: ${id} resolved on evidence: rotation record` });
    expect((await w.post(echo, signed(echo, 'd-echo'))).body).toMatchObject({ outcome: 'recorded' });
    expect((await w.store.get(id))!).toMatchObject({ status: 'open', evidence: [] });
    expect(w.signals).toEqual([]);

    await updateFinding(w.store, clock, id, (f) => ({
      finding: { ...f, status: 'resolved' },
      events: [{ actor: 'closeloop', action: 'finding.resolved', to: 'resolved', reason: 'verified' }],
    }));
    const body = hook('reopened');
    const r = await w.post(body, signed(body, 'd-reopened'));
    expect(r.body).toMatchObject({
      outcome: 'applied',
      message: expect.stringContaining(`${id} reopened (generation 2)`),
    });
    const after = (await w.store.get(id))!;
    expect(after).toMatchObject({ status: 'reopened', generation: 2 });
    expect((await w.store.events(id)).at(-1)).toMatchObject({ action: 'finding.reopened', actor: 'github:dana' });
  });

  it('takes a validity check that found the secret inactive for evidence', async () => {
    const w = await aWorld();
    const id = await w.aWaitingFinding();
    const body = hook('validated', { validity: 'inactive' });
    await w.post(body, signed(body, 'd-validated'));
    expect((await w.store.get(id))!.evidence[0]).toMatchObject({
      kind: 'secret_revoked_at_source',
      ref: 'github:acme/payments-api#1 validity inactive',
    });
  });

  it('names the field of a payload it cannot read, and accepts the delivery again once it can be processed', async () => {
    const w = await aWorld();
    const bad = JSON.stringify({ ...resolvedHook(), alert: { number: 'one' } });
    const r = await w.post(bad, signed(bad, 'd-bad'));
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^GitHub webhook: "alert.number" /);

    // A failure while processing forgets the delivery: GitHub's redelivery is processed.
    const body = hook('created');
    const down = Object.assign(Object.create(w.deps.store) as typeof w.deps.store, {
      commit: () => Promise.reject(new Error('DynamoDB is down')),
    });
    const failing = { ...w.deps, store: down };
    await expect(handleGithubWebhook(body, signed(body, 'd-retry'), failing)).rejects.toThrow('DynamoDB is down');
    expect((await w.post(body, signed(body, 'd-retry'))).body).toMatchObject({ outcome: 'recorded' });
  });
});
