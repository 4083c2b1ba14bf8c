import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreadableReportError } from '@core/shared/errors';
import type { RecordOutcome } from '@core/ingest/ingest';
import { openReport } from '@connectors/sources/read-report';
import type { FormatName } from '@connectors/sources/types';
import { ownFixturePath } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const dir = mkdtempSync(join(tmpdir(), 'closeloop-read-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const scanners = (...parts: string[]) => ownFixturePath('scanners', ...parts);
const open = (path: string, format?: FormatName) =>
  openReport(path, { ctx: aContext(), displayName: path.split('/').pop()!, ...(format ? { format } : {}) });

async function collect(records: AsyncIterable<RecordOutcome> | Iterable<RecordOutcome>): Promise<RecordOutcome[]> {
  const out: RecordOutcome[] = [];
  for await (const r of records) out.push(r);
  return out;
}

describe('opening scanner reports', () => {
  it.each([
    [['gitleaks', 'v8-git.json'], 'gitleaks'],
    [['gitleaks', 'v7.json'], 'gitleaks'],
    [['sarif', 'gitleaks-8.sarif'], 'sarif'],
    [['sarif', 'codeql.sarif'], 'sarif'],
    [['trufflehog', 'v3-current.jsonl'], 'trufflehog'],
    [['trufflehog', 'v3-2022-base64.jsonl'], 'trufflehog'],
    [['github', 'org-alerts.json'], 'github'],
    [['github', 'webhook-secret_scanning_alert-resolved.json'], 'github'],
    [['gitguardian', 'incidents.json'], 'gitguardian'],
    [['securityhub', 'asff-lowercase-findings.json'], 'asff'],
    [['securityhub', 'findings-imported-v2-iam3.json'], 'ocsf'],
    [['securityhub', 'get-findings-v2.json'], 'ocsf'],
    [['prowler', 'v4-ocsf.json'], 'ocsf'],
    [['prowler', 'v5-ocsf.json'], 'ocsf'],
    [['prowler', 'v3-ocsf.json'], 'ocsf'],
    [['gitlab', 'v15.json'], 'gitlab'],
    [['gitlab', 'v15-empty.json'], 'gitlab'],
    [['detect-secrets', 'baseline-1.5.json'], 'detect-secrets'],
    [['detect-secrets', 'baseline-empty.json'], 'detect-secrets'],
    [['ggshield', 'commit-range.json'], 'ggshield'],
    [['ggshield', 'no-secret.json'], 'ggshield'],
    [['noseyparker', 'v0.16.jsonl'], 'noseyparker'],
    [['noseyparker', 'v0.22.jsonl'], 'noseyparker'],
    [['noseyparker', 'v0.22-report.json'], 'noseyparker'],
    [['trivy', 'image.json'], 'trivy'],
    [['trivy', 'k8s.json'], 'trivy'],
    [['trivy', 'operator-list.json'], 'trivy'],
  ])('detects %j as %s', async (parts, format) => {
    expect((await open(scanners(...parts))).format.name).toBe(format);
  });

  it('streams a JSON-lines file whose last line has no newline', async () => {
    const lines = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8').trimEnd();
    const report = await open(file('no-final-newline.jsonl', lines));
    expect((await collect(report.records)).filter((r) => r.kind === 'observation')).toHaveLength(4);
  });

  describe('empty reports are clean scans when the format is named', () => {
    it.each([
      ['gitleaks', 'gitleaks/v8-empty.json'],
      ['gitleaks', 'gitleaks/v7-empty.json'],
      ['ocsf', 'prowler/empty.json'],
    ] as const)('--format %s reads %s as zero records', async (format, path) => {
      const report = await open(scanners(...path.split('/')), format);
      expect(await collect(report.records)).toEqual([]);
      expect(report.total).toBe(0);
    });

    it('names the scanner of an empty gitleaks report, so it counts as a clean re-scan', async () => {
      expect((await open(scanners('gitleaks', 'v8-empty.json'), 'gitleaks')).scanner).toBe('gitleaks');
    });

    it.each([
      ['trufflehog', 'trufflehog/empty.jsonl'],
      ['noseyparker', 'noseyparker/empty.jsonl'],
    ] as const)('--format %s reads an empty file (a JSON-lines scanner that found nothing)', async (format, path) => {
      const report = await open(scanners(...path.split('/')), format);
      expect(await collect(report.records)).toEqual([]);
      expect(report.scanner).toBe(format);
    });

    it('tells the user of a bare [] to pass --format', async () => {
      await expect(open(scanners('gitleaks', 'v8-empty.json'))).rejects.toThrow(
        new UnreadableReportError(
          'v8-empty.json',
          'an empty list ([]) does not say which scanner wrote it; if it is a clean scan (gitleaks 8, GitHub, Prowler OCSF and Nosey Parker write []), pass --format to ingest it',
        ),
      );
    });

    it('tells the user of gitleaks 7 null to pass --format', async () => {
      await expect(open(scanners('gitleaks', 'v7-empty.json'))).rejects.toThrow(
        'v7-empty.json: null does not say which scanner wrote it; if it is a clean scan (gitleaks 7 writes null), pass --format to ingest it',
      );
    });

    it('tells the user of an empty file to pass --format, and refuses it for a document format', async () => {
      await expect(open(scanners('trufflehog', 'empty.jsonl'))).rejects.toThrow(
        'empty.jsonl: the file is empty; if it is the clean scan of a JSON-lines scanner (noseyparker, trufflehog), pass --format to ingest it',
      );
      await expect(open(scanners('trufflehog', 'empty.jsonl'), 'gitleaks')).rejects.toThrow(
        'empty.jsonl: the file is empty',
      );
    });

    it('detects reports that say what they are even when empty (GitLab, detect-secrets, ggshield, Trivy)', async () => {
      for (const [parts, scanner] of [
        [['gitlab', 'v15-empty.json'], 'gitlab-secret-detection'],
        [['detect-secrets', 'baseline-empty.json'], 'detect-secrets'],
        [['ggshield', 'no-secret.json'], 'ggshield'],
        [['trivy', 'repo-no-secrets.json'], 'trivy'],
      ] as const) {
        const report = await open(scanners(...parts));
        expect({ records: await collect(report.records), scanner: report.scanner }).toEqual({ records: [], scanner });
      }
    });
  });

  it('reads a Nosey Parker JSON report (a list) with --format, and a one-line JSON-lines file', async () => {
    expect((await open(scanners('noseyparker', 'v0.22-report.json'), 'noseyparker')).total).toBe(3);
    const [first] = readFileSync(scanners('noseyparker', 'v0.22.jsonl'), 'utf8').split('\n');
    const one = await open(file('one.jsonl', `${first}\n`), 'noseyparker');
    expect((await collect(one.records)).map((r) => r.kind)).toEqual(['observation']);
  });

  it('refuses a report of another shape under a named format, saying what was expected', async () => {
    await expect(open(scanners('gitlab', 'sast.json'), 'gitlab')).rejects.toThrow(
      'sast.json: not a valid GitLab secret detection report (gl-secret-detection-report.json, schema 2 to 15): a GitLab sast report, not secret detection',
    );
    await expect(open(scanners('trufflehog', 'v3-current.jsonl'), 'gitleaks')).rejects.toThrow(UnreadableReportError);
  });

  it('refuses a truncated JSON document, saying where it broke', async () => {
    const path = file('truncated.json', '[\n {\n  "RuleID": "x",\n  "StartLine": 1,\n');
    await expect(open(path)).rejects.toThrow(
      new UnreadableReportError(
        'truncated.json',
        'it ends before the JSON is complete (line 5); the file looks truncated',
      ),
    );
  });

  it('refuses a non-JSON file with a line and column, and never echoes its content', async () => {
    const path = file('notes.txt', '{"a": 1,\n "b": AKIAQCLOSELOOPFAKE01}\n');
    const err = await open(path).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnreadableReportError);
    expect((err as Error).message).toBe('notes.txt: not valid JSON at line 2, column 7');
  });

  it('refuses a JSON-lines file whose last line was cut off', async () => {
    const [line] = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8').split('\n') as string[];
    const path = file('cut.jsonl', `${line}\n${line!.slice(0, 120)}`);
    await expect(open(path)).rejects.toThrow('cut.jsonl: its last line is not complete JSON; the file looks truncated');
  });

  it('refuses an unknown format', async () => {
    await expect(open(file('other.json', '{"hello": "world"}'))).rejects.toThrow(
      /other.json: not a recognised report format \(tried .*\); name one with --format/,
    );
  });

  it('rejects a corrupt line in the middle as one bad record and keeps the rest', async () => {
    const lines = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8').split('\n').filter(Boolean);
    const path = file('middle.jsonl', [lines[0], '{"DetectorName": "AWS", broken', lines[1]].join('\n'));
    const outcomes = await collect((await open(path)).records);
    expect(outcomes.map((o) => o.kind)).toEqual(['observation', 'rejected', 'observation']);
    expect(outcomes[1]).toMatchObject({
      recordNo: 2,
      problems: [expect.stringMatching(/^line 2 is not valid JSON at column \d+$/)],
    });
  });

  describe('telling JSON lines from a JSON document by the first non-blank line', () => {
    const [first, second] = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean) as string[];
    const observations = async (path: string) =>
      (await collect((await open(path)).records)).filter((o) => o.kind === 'observation');

    it.each([
      ['leading blank lines and CRLF endings', `\r\n  \r\n${first}\r\n${second}\r\n`],
      ['CR-only line endings', `${first}\r${second}`],
    ])('reads %s as JSON lines', async (_, content) => {
      const path = file('endings.jsonl', content);
      expect((await open(path)).format.name).toBe('trufflehog');
      expect(await observations(path)).toHaveLength(2);
    });

    it('reads a first record longer than one 64 KiB read, with multi-byte characters across the boundary', async () => {
      const long = JSON.stringify({ ...(JSON.parse(first!) as object), ExtraData: { note: '€'.repeat(40_000) } });
      const path = file('long-first.jsonl', `${long}\n${second}\n`);
      expect((await open(path)).format.name).toBe('trufflehog');
      expect(await observations(path)).toHaveLength(2);
    });

    it('reads a minified document (one line of 200 KB) as a document', async () => {
      const records = Array.from({ length: 400 }, (_, i) => ({
        RuleID: 'generic-api-key',
        StartLine: i + 1,
        File: `f${i}.env`,
        Secret: `closeloop_FAKE_${i}_${'x'.repeat(400)}`,
      }));
      const report = await open(file('minified.json', JSON.stringify(records)));
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
          Secret: 'AKIAQCLOSELOOPFAKE01',
          Match: 'key=AKIAQCLOSELOOPFAKE01',
        },
      ]),
    );
    const [outcome] = await collect((await open(path, 'gitleaks')).records);
    expect(outcome).toMatchObject({ kind: 'rejected', problems: ['"StartLine" must be a number, got "ten"'] });
    expect(JSON.stringify(outcome)).not.toContain('AKIAQCLOSELOOPFAKE01');
  });

  it('quarantines a rejected wrapped record (SARIF, ggshield, Trivy) without its context and redacted', async () => {
    const doc = JSON.parse(readFileSync(scanners('ggshield', 'path-scan-show-secrets.json'), 'utf8')) as {
      entities_with_incidents: Array<{ incidents: Array<Record<string, unknown>> }>;
    };
    delete doc.entities_with_incidents[0]!.incidents[0]!.type;
    const outcomes = await collect((await open(file('gg.json', JSON.stringify(doc)))).records);
    const rejected = outcomes.find((o) => o.kind === 'rejected')!;
    expect(rejected).toMatchObject({ problems: ['"type" is required'] });
    const quarantined = JSON.stringify((rejected as { redactedRecord: unknown }).redactedRecord);
    expect(quarantined).not.toContain('__scan');
    expect(quarantined).not.toContain('sk_live_closeloopFAKE000000000000000000');
    expect(quarantined).toContain('[REDACTED]');
  });
});

describe('reports that used to abort or mislead', () => {
  it('refuses a directory, saying so', async () => {
    const folder = mkdtempSync(join(dir, 'reports-'));
    await expect(openReport(folder, { ctx: aContext(), displayName: 'reports/' })).rejects.toThrow(
      new UnreadableReportError('reports/', 'is a directory, not a report file'),
    );
  });

  it('says where a document nested 100,000 levels deep is cut off, without exhausting the stack', async () => {
    await expect(open(file('deep.json', '['.repeat(100_000)))).rejects.toThrow(
      'deep.json: it ends before the JSON is complete (line 1); the file looks truncated',
    );
    await expect(open(file('deep-bad.json', `${'['.repeat(20_000)}1,]`))).rejects.toThrow(
      'deep-bad.json: not valid JSON at line 1, column 20003',
    );
  });

  it('calls a whitespace-only file empty, not truncated', async () => {
    await expect(open(file('blank.json', '\n  \n\t\n\n'))).rejects.toThrow(
      'blank.json: the file is empty (only whitespace); if it is the clean scan of a JSON-lines scanner (noseyparker, trufflehog), pass --format to ingest it',
    );
  });

  it.each([
    [
      'asff',
      { results: [{ id: 1 }] },
      'expected a finding, a list of findings, {"Findings": [...]} or a Security Hub event',
    ],
    ['gitguardian', { Findings: [] }, 'expected a list of incidents, {"results": [...]} or one incident'],
  ] as const)(
    'refuses --format %s on an object of another shape instead of reading it as nothing',
    async (format, doc, why) => {
      const err = await open(file(`other-${format}.json`, JSON.stringify(doc)), format).catch((e: Error) => e);
      expect(err).toBeInstanceOf(UnreadableReportError);
      expect((err as Error).message).toMatch(
        new RegExp(`^other-${format}\\.json: not a valid .*: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      );
    },
  );

  it('reads a JSON-lines file whose last line is longer than 1 MiB', async () => {
    const [first] = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8').split('\n');
    const long = JSON.stringify({ ...(JSON.parse(first!) as object), ExtraData: { note: 'n'.repeat(1_500_000) } });
    const outcomes = await collect((await open(file('long-last.jsonl', `${first}\n${long}\n`))).records);
    expect(outcomes.map((o) => o.kind)).toEqual(['observation', 'observation']);
  });

  it('rejects a JSON line that is not valid UTF-8, naming it, and reads the others', async () => {
    const [first, second] = readFileSync(scanners('trufflehog', 'v3-current.jsonl'), 'utf8').split('\n');
    const broken = Buffer.from(first!.replace('AKIAQCLOSELOOPFAKE01', 'AKIAQCLOSELOOPFAK\u00ff01'), 'latin1');
    const path = join(dir, 'latin1.jsonl');
    writeFileSync(path, Buffer.concat([broken, Buffer.from(`\n${second}\n`)]));
    const outcomes = await collect((await open(path)).records);
    expect(outcomes.map((o) => o.kind)).toEqual(['rejected', 'observation']);
    expect(outcomes[0]).toMatchObject({ recordNo: 1, problems: ['line 1 is not valid UTF-8'] });
  });

  it('rejects a document record whose secret is not valid UTF-8, naming record and field: it would merge with another secret', async () => {
    const records = [
      { RuleID: 'generic-api-key', StartLine: 1, File: 'a.env', Secret: 'closeloopFakeBytesA\u00ff00000' },
      { RuleID: 'generic-api-key', StartLine: 2, File: 'a.env', Secret: 'closeloopFakeBytesA\u00fe00000' },
      { RuleID: 'generic-api-key', StartLine: 3, File: 'a.env', Secret: 'closeloopFakeValidUtf8x0000' },
    ];
    const path = join(dir, 'latin1.json');
    writeFileSync(path, Buffer.from(JSON.stringify(records, null, 1), 'latin1'));
    const outcomes = await collect((await open(path)).records);
    expect(outcomes.map((o) => o.kind)).toEqual(['rejected', 'rejected', 'observation']);
    expect(outcomes[0]).toMatchObject({ recordNo: 1, problems: ['"Secret" is not valid UTF-8'] });
    expect(JSON.stringify(outcomes)).not.toContain('closeloopFakeBytes');
  });
});
