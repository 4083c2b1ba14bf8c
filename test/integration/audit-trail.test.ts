import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, hashEvent, type AuditEvent } from '@core/audit/chain';
import { writeDigest } from '@core/audit/digest-writer';
import { verifyAuditTrail, type AuditProblem } from '@core/audit/verify';
import { updateFinding } from '@core/finding/update';
import { fixedClock } from '@core/shared/clock';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { SingleTable, keys } from '@core/store/table';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { localDigestArchive, localDigestKeys } from '@local/audit-digests';
import { aFreshStore } from '@test/support/dynamo';
import { deleteStoredEventsAfter, rewriteStoredEvents, storedEvents } from '@test/support/event-items';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';

// The attacks of issue 20.10, each by someone who can write the table (every Lambda role can) and
// knows how the chain is computed (the code is open), but cannot sign digests nor rewrite them.

const clock = fixedClock('2026-11-01T09:00:00.000Z');

async function aTrail() {
  const { client, tableName, store } = await aFreshStore();
  const table = new SingleTable(client, tableName);
  await ingestReportFiles([reportFixture('gitleaks-git.json')], { store, clock, hasher: aHasher() });
  const [accepted] = await store.list();
  // A decided finding: an owner and an approved exception, the state worth forging.
  await updateFinding(store, clock, accepted!.id, (f, at) => ({
    finding: {
      ...f,
      owner: 'team-payments',
      status: 'risk_accepted',
      exception: {
        requestedBy: 'team-payments',
        requestedAt: at,
        until: '2026-12-01T00:00:00.000Z',
        reason: 'vendor migration',
        approvedBy: 'alice',
        approvedAt: at,
      },
    },
    events: [
      { actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-payments' },
      { actor: 'team-payments', action: 'exception.requested', reason: 'vendor migration' },
      { actor: 'alice', action: 'exception.approved', to: '2026-12-01T00:00:00.000Z' },
      { actor: 'closeloop:lifecycle', action: 'risk.accepted', from: 'open', to: 'risk_accepted' },
    ],
  }));
  const home = mkdtempSync(join(tmpdir(), 'closeloop-trail-'));
  const archive = localDigestArchive(home);
  const { signer, verifyKey } = await localDigestKeys(home);
  const trail = new DynamoAuditTrail(table);
  const doc = table.doc;
  const item = async (id: string, sk: string) =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `FINDING#${id}`, sk } }))).Item!;
  return {
    store,
    tableName,
    trail,
    archive,
    home,
    decided: accepted!.id,
    /** Events of the decided finding: its ingest events and the four decisions. */
    decidedEvents: (await store.get(accepted!.id))!.eventCount,
    digest: () => writeDigest({ trail, archive, signer, trailName: tableName, now: () => new Date() }),
    verify: () =>
      verifyAuditTrail({
        trail,
        trailName: tableName,
        digests: { archive, key: verifyKey, intervalMinutes: 60 },
        now: () => new Date(),
      }),
    /** The attacker: rewrites event `seq`, re-chains every later event and fixes the finding's head. */
    async rewriteAndRechain(id: string, seq: number, change: Partial<AuditEvent>) {
      const stored = await storedEvents(client, tableName, `FINDING#${id}`);
      let prevHash = seq === 1 ? GENESIS_HASH : stored[seq - 2]!.hash;
      const rechained = new Map<number, AuditEvent>();
      for (const event of stored.slice(seq - 1)) {
        const { hash: _old, ...rest } = event;
        const edited = { ...rest, ...(event.seq === seq ? change : {}), prevHash } as Omit<AuditEvent, 'hash'>;
        const hash = hashEvent(edited);
        rechained.set(event.seq, { ...edited, hash });
        prevHash = hash;
      }
      await rewriteStoredEvents(client, tableName, `FINDING#${id}`, (e) => rechained.get(e.seq) ?? e);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.finding(id),
          UpdateExpression: 'SET lastEventHash = :h',
          ExpressionAttributeValues: { ':h': prevHash },
        }),
      );
    },
    /** The attacker: deletes the last `n` events and points the finding's head at the one before. */
    async cutTail(id: string, n: number) {
      const stored = await storedEvents(client, tableName, `FINDING#${id}`);
      const last = stored[stored.length - n - 1]!;
      await deleteStoredEventsAfter(client, tableName, `FINDING#${id}`, last.seq);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.finding(id),
          UpdateExpression: 'SET lastEventHash = :h, eventCount = :c',
          ExpressionAttributeValues: { ':h': last.hash, ':c': last.seq },
        }),
      );
    },
    /** The attacker: deletes the finding and every item of its partition. */
    async deleteFinding(id: string) {
      const all =
        (
          await doc.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': `FINDING#${id}` },
            }),
          )
        ).Items ?? [];
      for (const i of all) await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: i.pk, sk: i.sk } }));
    },
    /** The attacker: edits the finding item's decision fields, no event. */
    async forgeState(id: string, update: string, values: Record<string, unknown>, names?: Record<string, string>) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.finding(id),
          UpdateExpression: update,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
    },
    async deleteItem(id: string, sk: string) {
      await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: `FINDING#${id}`, sk } }));
    },
    item,
  };
}

const only = (problems: AuditProblem[]) => problems.map(({ kind, id, check }) => ({ kind, id, check }));

describe('audit verify against a table writer (issue 20.10)', () => {
  it('passes an untouched trail, sealed by a signed digest, and lists what changed since it apart', async () => {
    const t = await aTrail();
    const before = await t.verify();
    expect(before).toMatchObject({ ok: true, problems: [], digest: null, unbound: 0 });
    expect(before.sinceDigest).toEqual([]);
    const first = await t.digest();
    expect(first).toMatchObject({ seq: 1, kind: 'checkpoint', anomalies: [], sealed: before.findings });
    const sealed = await t.verify();
    expect(sealed).toMatchObject({
      ok: true,
      digest: { seq: 1, chains: before.findings, stale: false },
      sinceDigest: [],
    });
    // A legitimate change after the digest: reported apart, not as a problem.
    await updateFinding(t.store, clock, t.decided, (f) => ({
      finding: f,
      events: [{ actor: 'alice', action: 'ticket.commented', reason: 'checked the compensating control' }],
    }));
    const after = await t.verify();
    expect(after.ok).toBe(true);
    const n = t.decidedEvents;
    expect(after.sinceDigest).toEqual([{ kind: 'finding', id: t.decided, sealedCount: n, count: n + 1 }]);
    expect(await t.digest()).toMatchObject({ seq: 2, kind: 'delta', changed: 1, anomalies: [] });
    expect((await t.verify()).sinceDigest).toEqual([]);
  });

  it('catches an event rewritten and re-chained once a digest sealed it; before, only the digest could have', async () => {
    const t = await aTrail();
    // Before any digest the rewrite is consistent: hashes and head agree. This is the window a
    // digest closes, and why verify lists unsealed chains apart.
    await t.rewriteAndRechain(t.decided, t.decidedEvents - 2, { actor: 'bob', reason: 'requested by bob' });
    expect((await t.verify()).ok).toBe(true);

    const t2 = await aTrail();
    await t2.digest();
    // The approval moved to the requester: separation of duties "kept" after the fact.
    const approval = t2.decidedEvents - 1;
    await t2.rewriteAndRechain(t2.decided, approval, { actor: 'team-payments' });
    const result = await t2.verify();
    expect(only(result.problems)).toEqual([{ kind: 'finding', id: t2.decided, check: 'sealed' }]);
    expect(result.problems[0]!.problem).toBe(
      `event ${t2.decidedEvents} is not the one digest #1 sealed: the trail up to it was rewritten`,
    );
    // The next digest does not launder it: the writer refuses to seal the rewritten head.
    const next = await t2.digest();
    expect(next.anomalies).toEqual([
      {
        kind: 'finding',
        id: t2.decided,
        anomaly: 'rewritten',
        detail: `event ${t2.decidedEvents} is not the one sealed (the trail up to it was rewritten)`,
      },
    ]);
    expect(only((await t2.verify()).problems)).toEqual([{ kind: 'finding', id: t2.decided, check: 'sealed' }]);
  });

  it('catches a tail cut and the head fixed', async () => {
    const t = await aTrail();
    await t.digest();
    await t.cutTail(t.decided, 2);
    const n = t.decidedEvents;
    const result = await t.verify();
    expect(result.problems).toEqual([
      {
        kind: 'finding',
        id: t.decided,
        check: 'state',
        // A write binds its state to its last event: the new last event was not one, so events after it went.
        problem: `its latest event ${n - 2} (exception.requested) binds no state, though event ${n - 4} does: the events after it were removed, or it was written outside closeloop`,
      },
      {
        kind: 'finding',
        id: t.decided,
        check: 'sealed',
        problem: `digest #1 sealed ${n} events and the chain has ${n - 2}: events ${n - 1}–${n} were removed`,
      },
    ]);
    expect((await t.digest()).anomalies).toEqual([
      { kind: 'finding', id: t.decided, anomaly: 'cut', detail: `sealed with ${n} events, the table has ${n - 2}` },
    ]);
  });

  it('catches a finding deleted with all its events', async () => {
    const t = await aTrail();
    const { findings } = await t.verify();
    await t.digest();
    await t.deleteFinding(t.decided);
    const result = await t.verify();
    expect(result.findings).toBe(findings - 1);
    expect(result.problems).toEqual([
      {
        kind: 'finding',
        id: t.decided,
        check: 'sealed',
        problem: `digest #1 sealed it with ${t.decidedEvents} events, and it is no longer in the table: deleted`,
      },
    ]);
    expect((await t.digest()).anomalies).toMatchObject([{ id: t.decided, anomaly: 'missing' }]);
  });

  it('catches the finding item deleted with its events left behind, sealed or not', async () => {
    const t = await aTrail();
    await t.deleteItem(t.decided, '#FINDING');
    const result = await t.verify();
    expect(result.problems).toEqual([
      {
        kind: 'finding',
        id: t.decided,
        check: 'record',
        problem: 'its events are in the table but its finding item is gone: deleted',
      },
    ]);
  });

  it("catches the finding item's state changed without an event, with or without a digest", async () => {
    const t = await aTrail();
    await t.forgeState(
      t.decided,
      'SET #exception.approvedBy = :who, #exception.#until = :until, #owner = :owner',
      {
        ':who': 'mallory',
        ':until': '2027-11-01T00:00:00.000Z',
        ':owner': 'team-elsewhere',
      },
      { '#exception': 'exception', '#until': 'until', '#owner': 'owner' },
    );
    const result = await t.verify();
    expect(result.problems).toEqual([
      {
        kind: 'finding',
        id: t.decided,
        check: 'record',
        // Its index keys followed the fields the attacker did not think of: the new owner's partition.
        problem:
          'its index keys do not match its fields (byOwnerDue gsi2pk altered, byOwnerDue gsi2sk altered): reports and listings no longer see it as it is',
      },
      {
        kind: 'finding',
        id: t.decided,
        check: 'state',
        problem: `its decision fields (owner, status, due date, exception, evidence, …) are not the state its latest event ${t.decidedEvents} (risk.accepted) bound: they were changed without an audit event`,
      },
    ]);
    // A status flip alone is caught the same way (its byStatus keys, left as they were, give it away too).
    const t2 = await aTrail();
    await t2.digest();
    await t2.forgeState(t2.decided, 'SET #s = :s', { ':s': 'resolved' }, { '#s': 'status' });
    expect(only((await t2.verify()).problems)).toEqual([
      { kind: 'finding', id: t2.decided, check: 'record' },
      { kind: 'finding', id: t2.decided, check: 'state' },
    ]);
  });

  it('finds a finding hidden by removing its index keys, and says it is hidden', async () => {
    const t = await aTrail();
    const { findings } = await t.verify();
    await t.forgeState(t.decided, 'REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi4pk, gsi4sk', {});
    expect((await t.store.list()).map((f) => f.id)).not.toContain(t.decided); // gone from listings and reports
    const result = await t.verify();
    expect(result.findings).toBe(findings);
    expect(result.problems).toEqual([
      {
        kind: 'finding',
        id: t.decided,
        check: 'record',
        problem:
          'its index keys do not match its fields (byStatus gsi1pk missing, byStatus gsi1sk missing, byOwnerDue gsi2pk missing, byOwnerDue gsi2sk missing): reports and listings no longer see it as it is',
      },
    ]);
  });

  it('refuses a write that would change decision fields without an event (the code cannot forge state either)', async () => {
    const t = await aTrail();
    await expect(
      updateFinding(t.store, clock, t.decided, (f) => ({ finding: { ...f, owner: 'someone-else' }, events: [] })),
    ).rejects.toThrow(`finding ${t.decided}: a write changes decision fields without an audit event; refused`);
    expect((await t.store.get(t.decided))!.owner).toBe('team-payments');
  });
});
