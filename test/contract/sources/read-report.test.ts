// The third-party samples through the reader; the reader's own cases (truncation, bad JSON, empty
// files, quarantine) are unit tests on the project's fixtures (test/unit/connectors/sources/read-report.test.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordOutcome } from '@core/ingest/ingest';
import { openReport } from '@connectors/sources/read-report';
import { fixturePath } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-read-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

async function collect(records: AsyncIterable<RecordOutcome> | Iterable<RecordOutcome>): Promise<RecordOutcome[]> {
  const out: RecordOutcome[] = [];
  for await (const r of records) out.push(r);
  return out;
}

describe('opening scanner reports', () => {
  it.each([
    [['scanners', 'gitleaks', 'json_simple.json'], 'gitleaks'],
    [['scanners', 'gitleaks', 'sarif_simple.sarif'], 'sarif'],
    [['scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'], 'trufflehog'],
    [['scanners', 'github-secret-scanning', 'defectdojo-org-secret-scanning-alerts-many.json'], 'github'],
    [['scanners', 'github-secret-scanning', 'webhook-secret_scanning_alert.reopened.payload.json'], 'github'],
    [['scanners', 'aws-securityhub', 'access-analyzer-external-access.asff.json'], 'asff'],
    [['scanners', 'aws-securityhub', 'defectdojo-securityhub-guardduty.json'], 'asff'],
    [['scanners', 'aws-securityhub', 'asr-eventbridge-securityhub-findings-imported-cis-1.4.json'], 'asff'],
    [['scanners', 'sarif', 'secretlint-output.sarif'], 'sarif'],
  ])('detects %j as %s', async (parts, format) => {
    const report = await openReport(fixturePath(...parts), { ctx: aContext() });
    expect(report.format.name).toBe(format);
  });

  it('streams a JSON-lines file whose last line has no newline (all 4 TruffleHog records)', async () => {
    const report = await openReport(fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'), {
      ctx: aContext(),
    });
    expect((await collect(report.records)).filter((r) => r.kind === 'observation')).toHaveLength(4);
  });

  it('refuses a JSON-lines file whose last line was cut off', async () => {
    const [line] = readFileSync(fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'), 'utf8').split(
      '\n',
    ) as string[];
    const path = file('cut.jsonl', `${line}\n${line!.slice(0, 120)}`);
    await expect(openReport(path, { ctx: aContext(), displayName: 'cut.jsonl' })).rejects.toThrow(
      'cut.jsonl: its last line is not complete JSON; the file looks truncated',
    );
  });

  it('rejects a corrupt line in the middle as one bad record and keeps the rest', async () => {
    const lines = readFileSync(fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean) as string[];
    const path = file('middle.jsonl', [lines[0], '{"DetectorName": "AWS", broken', lines[1]].join('\n'));
    const outcomes = await collect((await openReport(path, { ctx: aContext() })).records);
    expect(outcomes.map((o) => o.kind)).toEqual(['observation', 'rejected', 'observation']);
    expect(outcomes[1]).toMatchObject({
      recordNo: 2,
      problems: [expect.stringMatching(/^line 2 is not valid JSON at column \d+$/)],
    });
  });

  describe('telling JSON lines from a JSON document by the first non-blank line', () => {
    const [first, second] = readFileSync(fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean) as string[];
    const observations = async (path: string) =>
      (await collect((await openReport(path, { ctx: aContext() })).records)).filter((o) => o.kind === 'observation');

    it.each([
      ['leading blank lines and CRLF endings', `\r\n  \r\n${first}\r\n${second}\r\n`],
      ['CR-only line endings', `${first}\r${second}`],
    ])('reads %s as JSON lines', async (_, content) => {
      const path = file('endings.jsonl', content);
      expect((await openReport(path, { ctx: aContext() })).format.name).toBe('trufflehog');
      expect(await observations(path)).toHaveLength(2);
    });

    it('reads a first record longer than one 64 KiB read, with multi-byte characters across the boundary', async () => {
      const long = JSON.stringify({ ...(JSON.parse(first!) as object), ExtraData: { note: '€'.repeat(40_000) } });
      const path = file('long-first.jsonl', `${long}\n${second}\n`);
      expect((await openReport(path, { ctx: aContext() })).format.name).toBe('trufflehog');
      expect(await observations(path)).toHaveLength(2);
    });
  });
});
