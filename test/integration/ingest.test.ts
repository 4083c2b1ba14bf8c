import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { fixedClock } from '@core/shared/clock';
import { verifyChain } from '@core/audit/chain';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { ensureTable } from '@core/store/ensure-table';
import { REPORT_FIXTURE_SECRETS, ownFixturePath, reportFixture } from '@test/support/fixtures';
import { aGitleaksRecord, aHasher, anObservation } from '@test/support/factories';
import { ingestRecords, type RecordOutcome } from '@core/ingest/ingest';
import type { Observation } from '@core/finding/model';
import { StoreUnavailableError } from '@core/store/table';
import { findingIdFor } from '@core/finding/identity';
import { aFreshStore } from '@test/support/dynamo';
import type { DynamoFindingStore } from '@core/store/dynamo-finding-store';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const gitleaksGit = reportFixture('gitleaks-git.json');
const gitleaksDir = reportFixture('gitleaks-dir.json');
const truffleGit = reportFixture('trufflehog-git.jsonl');
const truffleGithub = reportFixture('trufflehog-github.jsonl');
const orgAlerts = ownFixturePath('github', 'org-secret-scanning-alerts.json');

/** A leak of secret number `n` of the set `tag` (one hex digit), found in `path`. */
function aLeak(tag: string, n: number, path = 'src/config.ts'): Observation {
  const secret = `${n}`.padStart(64, tag);
  return anObservation({
    fingerprint: `secret:${secret}`,
    secretHash: secret,
    locations: [{ kind: 'file', repository: 'github.com/acme/api', path, line: 10 }],
  });
}

const asReport = (observations: Observation[]): RecordOutcome[] =>
  observations.map((o, i) => ({ recordNo: i + 1, kind: 'observation', observation: o }));

/** The finding's events are its creation and one update, on an intact chain. */
async function expectCreatedThenUpdated(store: DynamoFindingStore, id: string): Promise<void> {
  const finding = (await store.get(id))!;
  const events = await store.events(id);
  expect(events.map((e) => e.action)).toEqual(['finding.created', 'finding.updated']);
  expect(verifyChain(events, { count: finding.eventCount, lastHash: finding.lastEventHash })).toEqual({
    ok: true,
    events: 2,
  });
}

describe('ingest into DynamoDB Local', () => {
  it('creates one finding per distinct secret and reports the counts', async () => {
    const { store } = await aFreshStore();
    const { total } = await ingestReportFiles([gitleaksGit], { store, clock, hasher: aHasher() });
    // 3 records: the orders API key in two commits (one finding) and the encryption key.
    expect(total).toEqual({ received: 3, created: 2, updated: 1, unchanged: 0, skipped: 0, rejected: 0, errors: [] });
    const findings = await store.list();
    expect(findings).toHaveLength(2);
    const apiKey = findings.find((f) => f.locations.length === 2)!;
    expect(apiKey.locations.map((l) => l.commit)).toEqual([
      '6f1c2a9e4b7d3f0a8c5e1b9d7a3f6c2e0b4d8a1f',
      '2d8b5f0c7e3a9d1b6f4c8e2a0d7b5f3c9e1a4b6d',
    ]);
  });

  it('a store failure in one round fails the ingest with that error; the rounds before it stay written, none after it starts', async () => {
    const { store } = await aFreshStore();
    let commits = 0;
    const flaky = Object.assign(Object.create(Object.getPrototypeOf(store) as object) as typeof store, store, {
      commit: async (writes: Parameters<typeof store.commit>[0]) => {
        if (++commits === 2) throw new StoreUnavailableError('DynamoDB kept cancelling the ingest transaction');
        return store.commit(writes);
      },
    });
    const file = join(mkdtempSync(join(tmpdir(), 'closeloop-ingest-')), 'gitleaks.json');
    writeFileSync(
      file,
      JSON.stringify(
        Array.from({ length: 850 }, (_, i) =>
          aGitleaksRecord({ StartLine: i + 1, Fingerprint: `c0ffee:src/app.ts:generic-api-key:${i + 1}` }),
        ),
      ),
    );
    await expect(ingestReportFiles([file], { store: flaky, clock, hasher: aHasher() })).rejects.toThrow(
      'DynamoDB kept cancelling the ingest transaction',
    );
    expect(commits).toBe(2);
    expect(await store.list()).toHaveLength(400); // one round: 400 records
  });

  it('is idempotent: re-ingesting the same reports changes nothing and reports every record unchanged', async () => {
    const { store } = await aFreshStore();
    await ingestReportFiles([gitleaksGit, truffleGit], { store, clock, hasher: aHasher() });
    const before = await store.list();
    const { total } = await ingestReportFiles([gitleaksGit, truffleGit], { store, clock, hasher: aHasher() });
    expect(total).toEqual({ received: 7, created: 0, updated: 0, unchanged: 7, skipped: 0, rejected: 0, errors: [] });
    expect(await store.list()).toEqual(before);
  });

  it('correlates the same secrets from two scanner sources into one finding each, with both sources', async () => {
    const { store } = await aFreshStore();
    await ingestReportFiles([gitleaksDir, gitleaksGit], { store, clock, hasher: aHasher() });
    const findings = await store.list();
    expect(findings).toHaveLength(2);
    for (const f of findings) expect(new Set(f.locations.map((l) => l.path)).size).toBeGreaterThan(1);
  });

  it('writes a verifiable audit chain: created, then source and location updates', async () => {
    const { store } = await aFreshStore();
    await ingestReportFiles([truffleGit], { store, clock, hasher: aHasher() });
    await ingestReportFiles([truffleGithub], { store, clock, hasher: aHasher() });
    const aws = (await store.list()).find((f) => f.nhiType === 'cloud_access_key')!;
    expect(aws.severity).toBe('critical');
    await expectCreatedThenUpdated(store, aws.id);
  });

  it('loses no source when two ingests of overlapping reports run at once', async () => {
    const { store } = await aFreshStore();
    const hasher = aHasher();
    const results = await Promise.all([
      ingestReportFiles([truffleGit], { store, clock, hasher }),
      ingestReportFiles([truffleGithub], { store, clock, hasher }),
      ingestReportFiles([truffleGit], { store, clock, hasher }),
    ]);
    expect(results.reduce((n, r) => n + r.total.created, 0)).toBe(3);
    const findings = await store.list();
    expect(findings).toHaveLength(3);
    for (const f of findings) {
      const events = await store.events(f.id);
      expect(verifyChain(events, { count: f.eventCount, lastHash: f.lastEventHash }).ok).toBe(true);
    }
    const urls = findings.flatMap((f) => f.locations.map((l) => l.url)).filter(Boolean);
    expect(urls.length).toBeGreaterThan(0); // the github-source locations survived the race
  });

  it('stores no secret anywhere in the table', async () => {
    const { store, client, tableName } = await aFreshStore();
    const { total } = await ingestReportFiles(
      [
        gitleaksGit,
        gitleaksDir,
        truffleGit,
        truffleGithub,
        reportFixture('gitleaks-many.json'),
        reportFixture('gitleaks.sarif'),
        orgAlerts,
      ],
      { store, clock, hasher: aHasher() },
    );
    // Every fixture was read (nothing rejected): 2 + 3 TruffleHog + 3 gitleaks + 2 SARIF findings and the open alert.
    expect(total).toMatchObject({ rejected: 0, skipped: 2 });
    expect(await store.list()).toHaveLength(11);
    const dump = JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items);
    for (const secret of REPORT_FIXTURE_SECRETS) expect(dump).not.toContain(secret);
    // TruffleHog carries its secrets base64-encoded: not those either.
    for (const secret of REPORT_FIXTURE_SECRETS) expect(dump).not.toContain(Buffer.from(secret).toString('base64'));
  });

  it('finds a GitHub alert again from its webhook, which carries no secret', async () => {
    const { store } = await aFreshStore();
    await ingestReportFiles([orgAlerts], { store, clock, hasher: aHasher() });
    const open = (await store.list()).find((f) => f.sources.some((s) => s.scannerId === 'acme-fixtures/web-portal#7'));
    expect(open).toBeUndefined(); // alert 7 was resolved at GitHub before we ever saw it: skipped
    const tracked = (await store.list())[0]!;
    const webhook = {
      action: 'resolved',
      alert: { number: Number(tracked.sources[0]!.scannerId.split('#')[1]), secret_type: tracked.detector },
      repository: { full_name: 'acme-fixtures/web-portal' },
    };
    const path = join(tmpdir(), `webhook-${Date.now()}.json`);
    writeFileSync(path, JSON.stringify(webhook));
    const { total } = await ingestReportFiles([path], { store, clock, hasher: aHasher() });
    expect(total.updated).toBe(1);
    const after = (await store.get(tracked.id))!;
    expect(after.sources[0]!.state).toBe('resolved');
    expect(await store.list()).toHaveLength(1);
  });

  it('quarantines rejected records (redacted) and ingests the rest', async () => {
    const { store } = await aFreshStore();
    const path = join(tmpdir(), `bad-${Date.now()}.json`);
    writeFileSync(
      path,
      JSON.stringify([
        { RuleID: 'aws-access-token', StartLine: 'ten', File: 'a.tf', Secret: 'AKIAYVP4CIPPERUVIFXG' },
        { RuleID: 'generic-api-key', StartLine: 3, File: 'b.env', Secret: 'closeloop-test-FAKE-secret-0001' },
      ]),
    );
    const { total } = await ingestReportFiles([path], { store, clock, hasher: aHasher() });
    expect(total).toMatchObject({ received: 2, created: 1, rejected: 1 });
    expect(total.errors).toEqual([`${basename(path)}: record 1: "StartLine" must be a number, got "ten"`]);
    const quarantined = await store.listQuarantine();
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatchObject({
      recordNo: 1,
      format: 'gitleaks',
      problems: ['"StartLine" must be a number, got "ten"'],
    });
    expect(quarantined[0]!.redactedRecord).not.toContain('AKIAYVP4CIPPERUVIFXG');
    // Re-ingesting the same bad record does not duplicate it in quarantine.
    await ingestReportFiles([path], { store, clock, hasher: aHasher() });
    expect(await store.listQuarantine()).toHaveLength(1);
  });

  it('writes a report of new findings without reading them first, and merges the ones that turn out to exist', async () => {
    const { store } = await aFreshStore();
    const reads: string[][] = [];
    const getMany = store.getMany.bind(store);
    jest.spyOn(store, 'getMany').mockImplementation(async (ids) => {
      reads.push(ids);
      return getMany(ids);
    });
    const observation = (i: number, path?: string) => aLeak('b', i, path);
    const options = { store, clock, reportName: 'report.json', format: 'gitleaks', batchSize: 100 };

    const first = await ingestRecords(asReport(Array.from({ length: 150 }, (_, i) => observation(i))), options);
    expect(first).toMatchObject({ created: 150, updated: 0 });
    // Two rounds, each reading one finding only (its probe).
    expect(reads.map((ids) => ids.length)).toEqual([1, 1]);

    // A second scan: its first record is new, 10 of its first 100 records are tracked (now also in
    // another file), the rest new.
    reads.length = 0;
    const tracked = (i: number) => i % 10 === 5;
    const second = Array.from({ length: 150 }, (_, i) =>
      tracked(i) ? observation(i, 'src/other.ts') : observation(1000 + i),
    );
    expect(await ingestRecords(asReport(second), options)).toMatchObject({ created: 135, updated: 15 });
    // The probe found nothing; the tracked ones of the first 100 were found by their failed guard and
    // read once; the rest of the ingest read first, as it would have anyway.
    expect(reads.map((ids) => ids.length)).toEqual([1, 10, 50]);
    expect([...reads[1]!].sort()).toEqual(
      second
        .slice(0, 100)
        .filter((_, i) => tracked(i))
        .map((o) => findingIdFor(o.fingerprint))
        .sort(),
    );
    expect(await store.list()).toHaveLength(285);
    for (const o of second.filter((_, i) => tracked(i))) {
      const id = findingIdFor(o.fingerprint);
      expect((await store.get(id))!.locations.map((l) => l.path)).toEqual(['src/config.ts', 'src/other.ts']);
      await expectCreatedThenUpdated(store, id);
    }
  });

  it('reads a re-scan of tracked findings first: its probe finds one, and nothing is written', async () => {
    const { store } = await aFreshStore();
    const report = asReport(Array.from({ length: 150 }, (_, i) => aLeak('e', i)));
    const options = { store, clock, reportName: 'report.json', format: 'gitleaks', batchSize: 100 };
    await ingestRecords(report, options);
    const commit = jest.spyOn(store, 'commit');
    expect(await ingestRecords(report, options)).toMatchObject({ created: 0, unchanged: 150 });
    expect(commit).not.toHaveBeenCalled();
  });

  it('reads only the findings it wrote itself when a secret comes again further down a report of new findings', async () => {
    const { store } = await aFreshStore();
    const getMany = jest.spyOn(store, 'getMany');
    // Record 150 is record 1's secret again, in another file: the second round of 100 has it, and
    // the third still reads nothing.
    const records = asReport(Array.from({ length: 250 }, (_, i) => aLeak('d', i === 149 ? 0 : i, `src/f${i}.ts`)));
    const first = findingIdFor(aLeak('d', 0).fingerprint);
    const options = { store, clock, reportName: 'r.json', format: 'gitleaks', batchSize: 100 };
    const total = await ingestRecords(records, options);
    expect(total).toMatchObject({ created: 249, updated: 1 });
    // Each round reads its probe; the second reads record 1's finding besides; the third reads no more.
    expect(getMany.mock.calls.map(([ids]) => ids.length)).toEqual([1, 2, 1]);
    expect(getMany.mock.calls[1]![0]).toContain(first);
    expect((await store.get(first))!.locations.map((l) => l.path)).toEqual(['src/f0.ts', 'src/f149.ts']);
  });

  it('resolves a tracked finding whose resolved record comes first in a report of new findings', async () => {
    const { store } = await aFreshStore();
    const options = { store, clock, reportName: 'alerts.json', format: 'github' };
    const tracked = anObservation();
    await ingestRecords([{ recordNo: 1, kind: 'observation', observation: tracked }], options);
    const resolved = { ...tracked, source: { ...tracked.source, state: 'resolved' as const } };
    const fresh = anObservation({ fingerprint: `secret:${'c'.repeat(64)}`, secretHash: 'c'.repeat(64) });
    const total = await ingestRecords(
      [
        { recordNo: 1, kind: 'observation', observation: resolved },
        { recordNo: 2, kind: 'observation', observation: fresh },
      ],
      options,
    );
    expect(total).toMatchObject({ created: 1, updated: 1, skipped: 0 });
    expect((await store.get(findingIdFor(tracked.fingerprint)))!.sources[0]!.state).toBe('resolved');
  });

  it('creates the table idempotently', async () => {
    const { client, tableName } = await aFreshStore();
    await expect(ensureTable(client, tableName)).resolves.toBe('exists');
  });
});
