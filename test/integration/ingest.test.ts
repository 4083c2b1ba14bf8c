import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { fixedClock } from '@core/shared/clock';
import { verifyChain } from '@core/audit/chain';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { ensureTable } from '@core/store/ensure-table';
import { FIXTURE_SECRETS, fixturePath } from '@test/support/fixtures';
import { aGitleaksRecord, aHasher } from '@test/support/factories';
import { StoreUnavailableError } from '@core/store/table';
import { aFreshStore } from '@test/support/dynamo';

const clock = fixedClock('2026-11-01T12:00:00.000Z');
const gitleaksGit = fixturePath('scanners', 'gitleaks', 'secobserve-gitleaks.git.json');
const gitleaksDir = fixturePath('scanners', 'gitleaks', 'secobserve-gitleaks.dir.json');
const truffleGit = fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl');
const truffleGithub = fixturePath('scanners', 'trufflehog', 'defectdojo-v3_github.jsonl');

describe('ingest into DynamoDB Local', () => {
  it('creates one finding per distinct secret and reports the counts', async () => {
    const { store } = await aFreshStore();
    const { total } = await ingestReportFiles([gitleaksGit], { store, clock, hasher: aHasher() });
    // 3 records: the Django key in two commits (one finding) and the encryption key.
    expect(total).toEqual({ received: 3, created: 2, updated: 1, unchanged: 0, skipped: 0, rejected: 0, errors: [] });
    const findings = await store.list();
    expect(findings).toHaveLength(2);
    const django = findings.find((f) => f.locations.length === 2)!;
    expect(django.locations.map((l) => l.commit)).toEqual([
      'b718aa975b79d141225d928ba2822ea010b74d2b',
      'a22291a13233b1282ddd0e54e479385690c06fa5',
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
        Array.from({ length: 250 }, (_, i) =>
          aGitleaksRecord({ StartLine: i + 1, Fingerprint: `c0ffee:src/app.ts:generic-api-key:${i + 1}` }),
        ),
      ),
    );
    await expect(ingestReportFiles([file], { store: flaky, clock, hasher: aHasher() })).rejects.toThrow(
      'DynamoDB kept cancelling the ingest transaction',
    );
    expect(commits).toBe(2);
    expect(await store.list()).toHaveLength(100);
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
    const events = await store.events(aws.id);
    expect(events.map((e) => e.action)).toEqual(['finding.created', 'finding.updated']);
    expect(verifyChain(events, { count: aws.eventCount, lastHash: aws.lastEventHash })).toEqual({
      ok: true,
      events: 2,
    });
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
    await ingestReportFiles(
      [
        gitleaksGit,
        gitleaksDir,
        truffleGit,
        fixturePath('scanners', 'gitleaks', 'defectdojo-gitleaks8_many.json'),
        fixturePath('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif'),
        fixturePath('scanners', 'github-secret-scanning', 'defectdojo-org-secret-scanning-alerts-many.json'),
      ],
      { store, clock, hasher: aHasher() },
    );
    const dump = JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items);
    for (const secret of FIXTURE_SECRETS) expect(dump).not.toContain(secret);
    expect(dump).not.toContain('QUtJQVlWUDRDSVBQRVJVVklGWEc');
  });

  it('finds a GitHub alert again from its webhook, which carries no secret', async () => {
    const { store } = await aFreshStore();
    const alerts = fixturePath('scanners', 'github-secret-scanning', 'defectdojo-org-secret-scanning-alerts-many.json');
    await ingestReportFiles([alerts], { store, clock, hasher: aHasher() });
    const open = (await store.list()).find((f) => f.sources.some((s) => s.scannerId === 'octocat/hello-world#2'));
    expect(open).toBeUndefined(); // alert 2 was resolved at GitHub before we ever saw it: skipped
    const tracked = (await store.list())[0]!;
    const webhook = {
      action: 'resolved',
      alert: { number: Number(tracked.sources[0]!.scannerId.split('#')[1]), secret_type: tracked.detector },
      repository: { full_name: 'octocat/Hello-World' },
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

  it('creates the table idempotently', async () => {
    const { client, tableName } = await aFreshStore();
    await expect(ensureTable(client, tableName)).resolves.toBe('exists');
  });
});
