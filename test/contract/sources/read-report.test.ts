import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreadableReportError } from '@core/shared/errors';
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

  it('refuses a truncated JSON document, saying where it broke', async () => {
    const path = file('truncated.json', '[\n {\n  "RuleID": "x",\n  "StartLine": 1,\n');
    await expect(openReport(path, { ctx: aContext(), displayName: 'truncated.json' })).rejects.toThrow(
      new UnreadableReportError(
        'truncated.json',
        'it ends before the JSON is complete (line 5); the file looks truncated',
      ),
    );
  });

  it('refuses a non-JSON file with a line and column, and never echoes its content', async () => {
    const path = file('notes.txt', '{"a": 1,\n "b": AKIAYVP4CIPPERUVIFXG}\n');
    const err = await openReport(path, { ctx: aContext(), displayName: 'notes.txt' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnreadableReportError);
    expect((err as Error).message).toBe('notes.txt: not valid JSON at line 2, column 7');
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

  it('refuses an empty file and an unknown format', async () => {
    await expect(openReport(file('empty.json', ''), { ctx: aContext(), displayName: 'empty.json' })).rejects.toThrow(
      'empty.json: the file is empty',
    );
    await expect(
      openReport(file('other.json', '{"hello": "world"}'), { ctx: aContext(), displayName: 'other.json' }),
    ).rejects.toThrow(/other.json: not a recognised report format \(tried .*\); name one with --format/);
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

    it('reads a minified document (one line of 200 KB) as a document', async () => {
      const records = Array.from({ length: 400 }, (_, i) => ({
        RuleID: 'generic-api-key',
        StartLine: i + 1,
        File: `f${i}.env`,
        Secret: `closeloop_FAKE_${i}_${'x'.repeat(400)}`,
      }));
      const report = await openReport(file('minified.json', JSON.stringify(records)), { ctx: aContext() });
      expect(report.format.name).toBe('gitleaks');
      expect(report.total).toBe(400);
    });
  });

  it('quarantines a rejected record redacted', async () => {
    const path = file(
      'bad.json',
      JSON.stringify([
        {
          RuleID: 'aws',
          StartLine: 'ten',
          File: 'a.tf',
          Secret: 'AKIAYVP4CIPPERUVIFXG',
          Match: 'key=AKIAYVP4CIPPERUVIFXG',
        },
      ]),
    );
    const [outcome] = await collect((await openReport(path, { ctx: aContext(), format: 'gitleaks' })).records);
    expect(outcome).toMatchObject({ kind: 'rejected', problems: ['"StartLine" must be a number, got "ten"'] });
    expect(JSON.stringify(outcome)).not.toContain('AKIAYVP4CIPPERUVIFXG');
  });
});
