import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { verifyChain } from '@core/audit/chain';
import { sweepLifecycles } from '@core/lifecycle/start';
import { readLocalConfig } from '@local/config';
import { openLocalHub } from '@local/hub';
import type { Finding } from '@core/finding/model';
import { updateFinding } from '@core/finding/update';
import { SegmentLost, WriteBehindFindingStore } from '@core/finding/write-behind';
import { remediationNotConfigured, type RemediationPort } from '@core/lifecycle/ports';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from '@test/support/dynamo';
import { eventItems } from '@test/support/event-items';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';

// A lifecycle's start held in memory and written once (local runner), on DynamoDB Local.
const clock = fixedClock('2026-11-01T09:00:00.000Z');

async function setup() {
  const { store, client, tableName } = await aFreshStore();
  await ingestReportFiles([reportFixture('trufflehog-git.jsonl'), reportFixture('gitleaks-git.json')], {
    store,
    clock,
    hasher: aHasher(),
  });
  const findings = await store.list();
  const actions = async (id: string) => (await store.events(id)).map((e) => e.action);
  const pages = async (id: string) => (await eventItems(client, tableName, `FINDING#${id}`)).length;
  return { store, findings, actions, pages };
}

/** A local runner whose store holds a start's writes (as the hub wires it), with the default policy. */
const aHeldRunner = (store: ConstructorParameters<typeof WriteBehindFindingStore>[0]) =>
  new LocalLifecycleRunner({
    store: new WriteBehindFindingStore(store),
    clock,
    policy: DEFAULT_POLICY,
    remediation: remediationNotConfigured,
  });

/** A remediation that, inside the start, lets someone else write the finding, then acts "on AWS" after a barrier. */
function aRemediationRacedBy(store: Awaited<ReturnType<typeof setup>>['store'], held: WriteBehindFindingStore) {
  const effects: string[] = [];
  let raced = false;
  const port: RemediationPort = {
    async remediate(request) {
      if (!raced) {
        raced = true;
        // Someone else (a webhook, another ingest) writes the finding while its start is held.
        await updateFinding(store, clock, request.findingId, (f) => ({
          finding: f,
          events: [{ actor: 'jira:5b10a2844c20165700ede21g', action: 'finding.updated', reason: 'edited in Jira' }],
        }));
      }
      await held.barrier(); // before the effect
      effects.push(request.findingId);
      return { remediation: 'not_configured', reason: 'rotation not configured' };
    },
  };
  return { port, effects };
}

describe('a lifecycle start held in memory and written once (WriteBehindFindingStore)', () => {
  it('writes the start as one write, with the same trail as a start written step by step', async () => {
    const { store, findings, actions, pages } = await setup();
    const [a, b] = findings.filter((f) => f.nhiType === 'api_key' || f.nhiType === 'cloud_access_key');
    const held = new WriteBehindFindingStore(store);
    const before = await pages(a!.id);
    const commits = jest.spyOn(store, 'commit');
    const heldRun = await new LocalLifecycleRunner({
      store: held,
      clock,
      policy: DEFAULT_POLICY,
      remediation: remediationNotConfigured,
    }).start(a!);
    const plainRun = await new LocalLifecycleRunner({
      store,
      clock,
      policy: DEFAULT_POLICY,
      remediation: remediationNotConfigured,
    }).start(b!);
    expect(heldRun).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(heldRun!.path).toEqual(plainRun!.path);
    const after = (await store.get(a!.id))!;
    // One write (one item of events) for the held start; one per step for the other.
    const writesOf = (id: string) =>
      commits.mock.calls.flatMap(([writes]) => writes).filter((w) => w.finding.id === id);
    expect(writesOf(a!.id)).toHaveLength(1);
    expect(writesOf(b!.id).length).toBeGreaterThan(1);
    expect(await pages(a!.id)).toBe(before + 1);
    const started = async (id: string) => (await actions(id)).slice((await actions(id)).indexOf('lifecycle.started'));
    expect(await started(a!.id)).toEqual(await started(b!.id));
    expect(await started(a!.id)).toContain('decision.made');
    expect(after).toMatchObject({ lifecycle: { startedGeneration: 1, waitingAt: expect.any(String) } });
    expect(verifyChain(await store.events(a!.id), { count: after.eventCount, lastHash: after.lastEventHash })).toEqual({
      ok: true,
      events: after.eventCount,
    });
  });

  it('when someone else writes the finding during the start, applies nothing of it and starts again on the fresh finding; the effect outside the store happens once', async () => {
    const { store, findings, actions } = await setup();
    const key = findings.find((f) => f.nhiType === 'cloud_access_key')!;
    const held = new WriteBehindFindingStore(store);
    const { port, effects } = aRemediationRacedBy(store, held);
    const run = await new LocalLifecycleRunner({ store: held, clock, policy: DEFAULT_POLICY, remediation: port }).start(
      key,
    );
    expect(run).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(effects).toEqual([key.id]);
    const trail = await actions(key.id);
    expect(trail.filter((a) => a === 'finding.updated')).toHaveLength(1);
    for (const once of ['lifecycle.started', 'owner.assigned', 'decision.made'])
      expect(trail.filter((a) => a === once)).toHaveLength(1);
    // The concurrent write comes before the start that was run again after it.
    expect(trail.indexOf('finding.updated')).toBeLessThan(trail.indexOf('lifecycle.started'));
    expect(trail).not.toContain('lifecycle.failed');
    const after = (await store.get(key.id))!;
    expect(verifyChain(await store.events(key.id), { count: after.eventCount, lastHash: after.lastEventHash }).ok).toBe(
      true,
    );
  });

  it('starts from the finding its caller read, without reading it again; a stale copy loses the guard and the start runs again on the fresh finding', async () => {
    const { store, findings, actions } = await setup();
    const [fresh, stale] = findings.filter((f) => f.nhiType === 'api_key' || f.nhiType === 'cloud_access_key');
    const runner = aHeldRunner(store);
    const get = jest.spyOn(store, 'get');
    const getMany = jest.spyOn(store, 'getMany');
    const reads = (id: string) =>
      get.mock.calls.filter(([x]) => x === id).length + getMany.mock.calls.filter(([ids]) => ids.includes(id)).length;

    expect(await runner.start(fresh!)).toMatchObject({ outcome: 'parked' });
    expect(reads(fresh!.id)).toBe(0);

    // Written by someone else after the caller read it.
    await updateFinding(store, clock, stale!.id, (f) => ({
      finding: f,
      events: [{ actor: 'alice@example.com', action: 'finding.updated', reason: 'edited meanwhile' }],
    }));
    expect(await runner.start(stale!)).toMatchObject({ outcome: 'parked' });
    const trail = await actions(stale!.id);
    expect(trail.filter((a) => a === 'lifecycle.started')).toHaveLength(1);
    expect(trail.indexOf('finding.updated')).toBeLessThan(trail.indexOf('lifecycle.started'));
    for (const f of [fresh!, stale!]) {
      const after = (await store.get(f.id))!;
      expect(verifyChain(await store.events(f.id), { count: after.eventCount, lastHash: after.lastEventHash }).ok).toBe(
        true,
      );
    }
  });

  it("an ingest commits each finding with its lifecycle start as one write: one page of events, no read but the round's, chain intact", async () => {
    const { store, client, tableName } = await aFreshStore();
    const runner = aHeldRunner(store);
    const getMany = jest.spyOn(store, 'getMany');
    const commit = jest.spyOn(store, 'commit');
    const started: string[] = [];
    await ingestReportFiles([reportFixture('gitleaks-git.json')], {
      store,
      clock,
      hasher: aHasher(),
      launcher: runner,
      onStarted: (r) => started.push(...r.launched.map((l) => l.id)),
    });
    const findings = await store.list();
    expect(findings.length).toBeGreaterThan(0);
    expect(started.sort()).toEqual(findings.map((f) => f.id).sort());
    // The round's one read, and one write per finding: its creation and its start together.
    expect(getMany).toHaveBeenCalledTimes(1);
    const writes = commit.mock.calls.flatMap(([w]) => w);
    expect(writes.map((w) => w.finding.id).sort()).toEqual(findings.map((f) => f.id).sort());
    for (const f of findings) {
      expect(f.lifecycle).toMatchObject({ startedGeneration: 1, waitingAt: expect.any(String) });
      const trail = (await store.events(f.id)).map((e) => e.action);
      // The start comes after everything the round recorded, in the same page.
      expect(trail[0]).toBe('finding.created');
      expect(trail.slice(trail.indexOf('lifecycle.started'))).not.toContain('source.added');
      expect(verifyChain(await store.events(f.id), { count: f.eventCount, lastHash: f.lastEventHash }).ok).toBe(true);
      expect(await eventItems(client, tableName, `FINDING#${f.id}`)).toHaveLength(1);
    }
  });

  it('an ingest whose findings another ingest creates during the held start applies nothing of it and merges into them; each starts once, nothing is lost', async () => {
    const { store } = await aFreshStore();
    let raced = false;
    // The other ingest (the same report from another hub) commits just before the held start does.
    const racing = Object.assign(Object.create(store) as typeof store, {
      commit: async (writes: Parameters<typeof store.commit>[0]) => {
        if (!raced && writes.some((w) => w.expectedVersion === null && w.events.length > 1)) {
          raced = true;
          await ingestReportFiles([reportFixture('trufflehog-git.jsonl')], { store, clock, hasher: aHasher() });
        }
        return store.commit(writes);
      },
    });
    const runner = aHeldRunner(racing);
    await ingestReportFiles([reportFixture('trufflehog-git.jsonl')], {
      store,
      clock,
      hasher: aHasher(),
      launcher: runner,
    });
    expect(raced).toBe(true);
    // What the losing ingest did not start (it found its records there already) the sweep starts.
    await sweepLifecycles(store, runner);
    const findings = await store.list();
    for (const f of findings) {
      const trail = (await store.events(f.id)).map((e) => e.action);
      expect(trail.filter((a) => a === 'finding.created')).toHaveLength(1);
      expect(trail.filter((a) => a === 'lifecycle.started')).toHaveLength(1);
      expect(f.lifecycle).toMatchObject({ startedGeneration: 1, waitingAt: expect.any(String) });
      expect(verifyChain(await store.events(f.id), { count: f.eventCount, lastHash: f.lastEventHash }).ok).toBe(true);
    }
    // Both ingests' records are on the findings: as many sources as the report alone gives.
    const alone = await aFreshStore();
    await ingestReportFiles([reportFixture('trufflehog-git.jsonl')], { store: alone.store, clock, hasher: aHasher() });
    const expected = (await alone.store.list()).map((f) => [f.id, f.sources.length]).sort();
    expect(findings.map((f) => [f.id, f.sources.length]).sort()).toEqual(expected);
  });

  it('two hubs holding the start of one generation at once: one runs it, the other writes nothing', async () => {
    const { store, findings, actions } = await setup();
    const key = findings.find((f) => f.nhiType === 'cloud_access_key')!;
    const hubs = [1, 2].map(() => aHeldRunner(store));
    const runs = await Promise.all(hubs.map((hub) => hub.start(key)));
    expect(runs.filter((r) => r !== undefined)).toHaveLength(1);
    const trail = await actions(key.id);
    for (const once of ['lifecycle.started', 'owner.assigned', 'decision.made'])
      expect(trail.filter((a) => a === once)).toHaveLength(1);
    expect(verifyChain(await store.events(key.id)).ok).toBe(true);
  });

  it('a barrier whose commit lost refuses before the effect; outside a segment a barrier does nothing', async () => {
    const { store, findings } = await setup();
    const f: Finding = findings[0]!;
    const held = new WriteBehindFindingStore(store);
    await expect(held.barrier()).resolves.toBeUndefined();
    const effects: string[] = [];
    const { lost } = await held.segment(f.id, async () => {
      await updateFinding(held, clock, f.id, (x) => ({
        finding: x,
        events: [{ actor: 'closeloop:lifecycle', action: 'finding.updated', reason: 'held' }],
      }));
      // Written meanwhile by someone else, outside the segment.
      await updateFinding(store, clock, f.id, (x) => ({
        finding: x,
        events: [{ actor: 'alice@example.com', action: 'finding.updated', reason: 'elsewhere' }],
      }));
      const refused = await held.barrier().then(
        () => undefined,
        (err: unknown) => err,
      );
      if (!refused) effects.push('acted on AWS');
      expect(refused).toBeInstanceOf(SegmentLost);
      expect(String(refused)).toContain(
        `${f.id} was written by someone else during its lifecycle's start; it starts again`,
      );
    });
    expect({ lost, effects }).toEqual({ lost: true, effects: [] });
    // Only the write from outside landed.
    const reasons = (await store.events(f.id)).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'held' || r === 'elsewhere')).toEqual(['elsewhere']);
  });

  it.each([
    ['on', 'once'],
    ['off', 'step by step, as the Lambdas do (what the cost bench prices)'],
  ])('the local hub with CLOSELOOP_GROUP_COMMIT=%s writes a start %s', async (setting) => {
    const endpoint = process.env.CLOSELOOP_TEST_DYNAMODB!;
    const hub = await openLocalHub(
      readLocalConfig({
        CLOSELOOP_HOME: mkdtempSync(join(tmpdir(), 'closeloop-held-')),
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        CLOSELOOP_TABLE: `t-${randomUUID()}`,
        CLOSELOOP_GROUP_COMMIT: setting,
      }),
    );
    try {
      await ingestReportFiles([reportFixture('gitleaks-git.json')], { store: hub.store, clock, hasher: aHasher() });
      const [f] = await hub.store.list();
      const commits = jest.spyOn(hub.store, 'commit');
      await sweepLifecycles(hub.store, hub.lifecycles);
      const writes = commits.mock.calls.flatMap(([w]) => w).filter((w) => w.finding.id === f!.id);
      if (setting === 'on') expect(writes).toHaveLength(1);
      else expect(writes.length).toBeGreaterThan(1);
      expect((await hub.store.get(f!.id))!.lifecycle).toMatchObject({ startedGeneration: 1 });
    } finally {
      await hub.close();
    }
  });
});
