import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '@core/shared/clock';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { aFreshStore } from '@test/support/dynamo';
import { aGitleaksRecord, aHasher } from '@test/support/factories';

const clock = fixedClock('2026-11-01T09:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'closeloop-robust-'));
const write = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const HUGE = 512 * 1024;

describe('an ingest that never aborts on a bad record (DynamoDB Local)', () => {
  it('quarantines many identical bad records, one entry each, and ingests the rest', async () => {
    const { store } = await aFreshStore();
    const bad = { RuleID: 'generic-api-key', StartLine: 'ten', File: 'a.env', Secret: 'closeloopFakeBadRecord000001' };
    const good = Array.from({ length: 30 }, (_, i) => aGitleaksRecord({ StartLine: i + 1 }));
    const file = write('identical-bad.json', JSON.stringify([...Array.from({ length: 60 }, () => bad), ...good]));
    const { total } = await ingestReportFiles([file], { store, clock, hasher: aHasher(), format: 'gitleaks' });
    expect(total).toMatchObject({ received: 90, created: 30, rejected: 60 });
    const quarantined = await store.listQuarantine();
    expect(quarantined).toHaveLength(60);
    expect(new Set(quarantined.map((q) => q.recordNo)).size).toBe(60);
    expect(JSON.stringify(quarantined)).not.toContain('closeloopFakeBadRecord000001');
    // Re-ingesting the same report rewrites its entries rather than adding more.
    await ingestReportFiles([file], { store, clock, hasher: aHasher(), format: 'gitleaks' });
    expect(await store.listQuarantine()).toHaveLength(60);
  });

  it('quarantines identical corrupt JSON lines, one entry each', async () => {
    const { store } = await aFreshStore();
    const line = JSON.stringify({
      SourceMetadata: { Data: { Filesystem: { file: 'a.env', line: 1 } } },
      DetectorName: 'AWS',
      Verified: false,
      Raw: 'AKIAQCLOSELOOPFAKE01',
    });
    const corrupt = '{"DetectorName": "AWS", broken}';
    const file = write('corrupt.jsonl', [line, ...Array.from({ length: 40 }, () => corrupt), line].join('\n'));
    const { total } = await ingestReportFiles([file], { store, clock, hasher: aHasher() });
    expect(total).toMatchObject({ received: 42, created: 1, unchanged: 1, rejected: 40 });
    expect(await store.listQuarantine()).toHaveLength(40);
  });

  it.each(['File', 'RuleID', 'Commit', 'Fingerprint', 'Link'])(
    'rejects and quarantines a record with a %s of 512 K characters; the other 499 findings are written',
    async (field) => {
      const { store } = await aFreshStore();
      const records = Array.from({ length: 500 }, (_, i) =>
        aGitleaksRecord({ StartLine: i + 1, File: `src/f${i}.ts` }),
      );
      records[250] = {
        ...records[250]!,
        [field]: field === 'Link' ? `https://github.com/${'a'.repeat(HUGE)}` : 'x'.repeat(HUGE),
      };
      const file = write(`huge-${field}.json`, JSON.stringify(records));
      const { total } = await ingestReportFiles([file], { store, clock, hasher: aHasher(), format: 'gitleaks' });
      expect(total).toMatchObject({ received: 500, created: 499, rejected: 1 });
      const limit = field === 'File' ? 4096 : field === 'Link' ? 8192 : 1024;
      expect(total.errors).toEqual([`huge-${field}.json: record 251: "${field}" must be at most ${limit} characters`]);
      const [entry] = await store.listQuarantine();
      expect(entry).toMatchObject({ recordNo: 251 });
      expect(entry!.redactedRecord.length).toBeLessThan(70_000);
      expect(await store.list()).toHaveLength(499);
    },
  );

  it('ingests one secret reported in 150 commits: one finding, its events over several transactions', async () => {
    const { store } = await aFreshStore();
    const records = Array.from({ length: 150 }, (_, i) =>
      aGitleaksRecord({
        Secret: 'closeloopFakeInEveryCommit0001',
        Commit: `c${i}`,
        Fingerprint: `c${i}:src/config.ts:generic-api-key:10`,
      }),
    );
    const { total } = await ingestReportFiles([write('every-commit.json', JSON.stringify(records))], {
      store,
      clock,
      hasher: aHasher(),
      format: 'gitleaks',
    });
    expect(total).toMatchObject({ received: 150, created: 1, updated: 149, rejected: 0 });
    const [finding] = await store.list();
    expect(finding!.locations).toHaveLength(150);
  });

  it('refuses the record that would make its finding larger than a DynamoDB item, and writes the rest', async () => {
    const { store } = await aFreshStore();
    // One secret reported at 200 places with 4 KB paths: its finding would exceed 400 KB.
    const secret = 'closeloopFakeReusedEverywhere000001';
    const records = Array.from({ length: 200 }, (_, i) =>
      aGitleaksRecord({ Secret: secret, StartLine: i + 1, File: `${String(i).padStart(4, '0')}/${'d'.repeat(4000)}` }),
    );
    const others = Array.from({ length: 20 }, (_, i) => aGitleaksRecord({ StartLine: i + 1 }));
    const file = write('too-large.json', JSON.stringify([...records, ...others]));
    const { total } = await ingestReportFiles([file], { store, clock, hasher: aHasher(), format: 'gitleaks' });
    expect(total.rejected).toBeGreaterThan(0);
    expect(total.errors[0]).toMatch(
      /^too-large\.json: record \d+: its finding would be larger than a DynamoDB item may be \(350 KB\)$/,
    );
    expect(total.created).toBe(21);
    const reused = (await store.list()).find((f) => f.secretPreview === 'clos…(35)')!;
    expect(reused.locations.length + reused.locationsNotListed).toBe(200 - total.rejected);
    expect(await store.listQuarantine()).toHaveLength(total.rejected);
  });
});
