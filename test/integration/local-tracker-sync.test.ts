import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { fireDueTimers } from '@core/lifecycle/timers';
import { remediationNotConfigured } from '@core/lifecycle/ports';
import { updateFinding } from '@core/finding/update';
import type { Clock } from '@core/shared/clock';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { LocalTrackerSink } from '@core/store/local-tracker';
import { SingleTable } from '@core/store/table';
import { ticketDraft } from '@core/tickets/draft';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from '@test/support/dynamo';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';
import { syncDeps, syncTickets } from '@test/support/tickets';
import { storedWorks } from '@test/support/work-items';

const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const DAY = 86_400_000;

/**
 * The embedded default's tracker keeps its tickets in the findings table, so the sync creates each
 * one as one atomic write (ticket, key, record, alias, the finding's link) instead of the lease,
 * intent, create, key and release steps a remote tracker needs. These tests hold that write to
 * the same guarantees: one ticket per finding, under concurrent workers, changed findings and
 * tickets left by an earlier create.
 */
async function world() {
  const fresh = await aFreshStore();
  const { client, tableName, store } = fresh;
  let now = T0;
  const clock: Clock & { advance(ms: number): void } = { now: () => new Date(now), advance: (ms) => void (now += ms) };
  // The DEFAULT policy: nobody's owner is mapped, approvals wait.
  const runner = new LocalLifecycleRunner({
    store,
    clock,
    policy: DEFAULT_POLICY,
    remediation: remediationNotConfigured,
  });
  await ingestReportFiles([reportFixture('gitleaks-git.json'), reportFixture('trufflehog-git.jsonl')], {
    store,
    clock,
    hasher: aHasher(),
  });
  for (const f of await store.list()) await runner.start(f);
  const findings = await store.list();
  const tracker = new LocalTrackerSink(new SingleTable(client, tableName), () => clock.now());
  const tickets = new DynamoTicketStore(new SingleTable(client, tableName));
  const deps = (worker = 'w1') => ({ ...syncDeps({ client, tableName, store, clock, worker }), tickets });
  const works = async () =>
    storedWorks(((await client.send(new ScanCommand({ TableName: tableName }))).Items ?? []).map((i) => unmarshall(i)));
  const createdEvents = async (id: string) => (await store.events(id)).filter((e) => e.action === 'ticket.created');
  return { ...fresh, clock, runner, findings, tracker, tickets, deps, works, createdEvents };
}

describe('local tracker sync: one atomic write per ticket', () => {
  it('creates every ticket with its key, record and link, and the work it told leaves the outbox', async () => {
    const w = await world();
    expect(w.findings.length).toBeGreaterThan(2);
    const claim = jest.spyOn(w.tickets, 'claimTicket');
    const sent = jest.spyOn(w.tickets, 'markCreateSent');

    const result = await syncTickets(w.deps());

    expect(result).toMatchObject({ created: w.findings.length, pending: 0, problems: [] });
    // No lease and no intent: nothing leaves the store, so the write itself is the exactly-once guard.
    expect(claim).not.toHaveBeenCalled();
    expect(sent).not.toHaveBeenCalled();
    const records = await w.tickets.tickets(w.findings.map((f) => f.id));
    for (const before of w.findings) {
      const finding = (await w.store.get(before.id))!;
      const key = finding.ticket!.key;
      expect(finding.ticket).toEqual({ system: 'local', key });
      const ticket = (await w.tracker.get(key))!;
      expect(ticket).toMatchObject({ findingId: finding.id, status: 'open', assignee: finding.owner });
      // Everything known at creation is in the ticket: no comment follows it.
      expect(ticket.comments).toEqual([]);
      expect(ticket.description).toContain('Owner');
      const record = records.get(finding.id)!;
      expect(record).toMatchObject({ key, createOutcome: 'created', createAttempts: 1 });
      expect(record.leaseOwner).toBeUndefined();
      expect(record.foldedThrough).toBe(
        Math.max(...(await w.works()).filter((i) => i.findingId === finding.id).map((i) => Number(i.seq))),
      );
      const created = await w.createdEvents(finding.id);
      expect(created.map((e) => e.to)).toEqual([key]);
    }
    const work = await w.works();
    expect(work.length).toBeGreaterThan(w.findings.length);
    expect(work.filter((i) => i.state !== 'done' || i.inOutbox)).toEqual([]);
    expect(await w.tickets.countPending()).toBe(0);
    // A second sync has nothing to do.
    expect(await syncTickets(w.deps())).toMatchObject({ created: 0, updated: 0, pending: 0 });
    expect((await w.tracker.list()).length).toBe(w.findings.length);
  });

  it('two workers syncing at once make one ticket, one link and one ticket.created per finding', async () => {
    const w = await world();
    const [a, b] = await Promise.all([syncTickets(w.deps('w1')), syncTickets(w.deps('w2'))]);

    expect(a.created + b.created).toBe(w.findings.length);
    expect(a.pending + b.pending).toBe(0);
    const list = await w.tracker.list();
    expect(list.map((t) => t.findingId).sort()).toEqual(w.findings.map((f) => f.id).sort());
    for (const f of w.findings) {
      const created = await w.createdEvents(f.id);
      expect(created).toHaveLength(1);
      expect((await w.store.get(f.id))!.ticket!.key).toBe(created[0]!.to);
    }
  });

  it('a finding changed after the round read it is linked on its fresh version; the change is kept and reaches the ticket', async () => {
    const w = await world();
    const target = w.findings[0]!;
    const deps = w.deps();
    const getMany = deps.store.getMany.bind(deps.store);
    // Someone records evidence between the sync's read and its write.
    deps.store = Object.assign(Object.create(deps.store), {
      getMany: async (ids: string[]) => {
        const read = await getMany(ids);
        await updateFinding(w.store, w.clock, target.id, (f) => ({
          finding: f,
          events: [{ actor: 'casey@example.com', action: 'evidence.recorded', reason: 'key rotated by hand' }],
        }));
        deps.store = w.store;
        return read;
      },
    });

    const result = await syncTickets(deps);

    expect(result).toMatchObject({ created: w.findings.length, pending: 0, problems: [] });
    const trail = (await w.store.events(target.id)).map((e) => e.action);
    expect(trail.slice(-2)).toEqual(['evidence.recorded', 'ticket.created']);
    const finding = (await w.store.get(target.id))!;
    const ticket = (await w.tracker.get(finding.ticket!.key))!;
    // The evidence came after the create's read: it is a comment, not lost and not folded.
    expect(ticket.comments.map((c) => c.text)).toEqual([expect.stringContaining('key rotated by hand')]);
    expect(await w.createdEvents(target.id)).toHaveLength(1);
  });

  it('a ticket the tracker already has for a finding (its record lost) is linked, never made twice', async () => {
    const w = await world();
    const target = w.findings[0]!;
    // A create that reached the tracker but whose record was never written.
    const [earlier] = await w.tracker.create([ticketDraft(target, DEFAULT_POLICY, [])], { kind: 'local' });

    const result = await syncTickets(w.deps());

    expect(earlier).toMatchObject({ status: 'created' });
    const key = (earlier as { key: string }).key;
    expect(result.pending).toBe(0);
    expect((await w.store.get(target.id))!.ticket!.key).toBe(key);
    expect((await w.tracker.list()).filter((t) => t.findingId === target.id).map((t) => t.key)).toEqual([key]);
    expect((await w.tickets.tickets([target.id])).get(target.id)!.key).toBe(key);
    expect(await w.createdEvents(target.id)).toHaveLength(1);
  });

  it('a create another worker has in flight (its intent recorded) is left to it and reconciled, not repeated', async () => {
    const w = await world();
    const target = w.findings[0]!;
    // Leases are about real time, not the hub's clock.
    const now = new Date().toISOString();
    // Another worker took the lease and recorded its create intent, then died before creating.
    await w.tickets.claimTicket(
      target.id,
      { kind: 'local' },
      'w-dead',
      now,
      new Date(Date.now() + 1_000).toISOString(),
    );
    await w.tickets.markCreateSent(target.id, 'w-dead', now, 0);

    const first = await syncTickets(w.deps(), { deadlineMs: 100 });
    // Until the lease runs out, that finding is not ours; the others are created.
    expect(first.created).toBe(w.findings.length - 1);
    expect((await w.store.get(target.id))!.ticket).toBeUndefined();

    await new Promise((r) => setTimeout(r, 1_100));
    await syncTickets(w.deps());
    const record = (await w.tickets.tickets([target.id])).get(target.id)!;
    expect(record).toMatchObject({ createOutcome: 'created' });
    expect((await w.tracker.list()).filter((t) => t.findingId === target.id)).toHaveLength(1);
    expect(await w.createdEvents(target.id)).toHaveLength(1);
  });

  it('later work goes out through the lease like any tracker: an SLA breach raises the priority with a comment', async () => {
    const w = await world();
    await syncTickets(w.deps());
    // Below critical, so there is a priority step to raise it by.
    const target = w.findings.find((f) => f.severity !== 'critical')!;
    expect(target).toBeDefined();
    const key = (await w.store.get(target.id))!.ticket!.key;
    const before = (await w.tracker.get(key))!;

    w.clock.advance(120 * DAY);
    await fireDueTimers({ store: w.store, clock: w.clock, policy: DEFAULT_POLICY });
    const result = await syncTickets(w.deps('w2'));

    expect(result).toMatchObject({ pending: 0, problems: [] });
    expect(result.updated).toBeGreaterThan(0);
    const after = (await w.tracker.get(key))!;
    expect(after.comments.map((c) => c.text)).toEqual([expect.stringContaining('Overdue')]);
    expect(after.priority < before.priority).toBe(true); // P1 is above P2
    expect((await w.tickets.tickets([target.id])).get(target.id)!.leaseOwner).toBeUndefined();
  });
});
