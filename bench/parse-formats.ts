/**
 * Parse + normalise of each scanner format against JSON.parse of the same bytes (target ≤ 3×),
 * on reports of `n` records made from the project's fixture records (test/fixtures/scanners).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openReport } from '../connectors/sources/read-report';
import type { FormatName, ParseContext } from '../connectors/sources/types';

interface Generated {
  format: FormatName;
  label: string;
  lines: boolean;
  content: string;
}

const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'scanners');
const template = <T>(...parts: string[]): T => JSON.parse(readFileSync(join(FIXTURES, ...parts), 'utf8')) as T;
const clone = <T>(value: T): T => structuredClone(value);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixture records of many shapes

const fake = (i: number) => `closeloopBenchFAKE${i}${randomBytes(6).toString('hex')}`;
const file = (i: number) => `services/svc-${i % 97}/config/settings-${i}.py`;

/**
 * Reports of `n` records, each a fixture record (test/fixtures/scanners) with its own secret, file
 * and line, written as the scanner writes them: indented, except ggshield's one-line JSON.
 */
function reports(n: number): Generated[] {
  const gl = template<Json>('gitlab', 'v15.json');
  const glVuln = gl.vulnerabilities[0];
  gl.vulnerabilities = Array.from({ length: n }, (_, i) => {
    const v = clone(glVuln);
    v.id = randomBytes(32).toString('hex');
    v.raw_source_code_extract = fake(i);
    v.location.file = file(i);
    v.location.start_line = v.location.end_line = (i % 300) + 1;
    return v;
  });

  const ds = template<Json>('detect-secrets', 'baseline-1.5.json');
  const dsResult = ds.results['deploy/terraform/keys.tf'][0];
  ds.results = {};
  for (let i = 0; i < n; i++) {
    const r = clone(dsResult);
    r.filename = file(Math.floor(i / 4));
    r.hashed_secret = randomBytes(20).toString('hex');
    r.line_number = (i % 300) + 1;
    (ds.results[r.filename] ??= []).push(r);
  }

  const gg = template<Json>('ggshield', 'commit-range.json');
  const ggEntity = template<Json>('ggshield', 'path-scan-masked.json').entities_with_incidents[0];
  const ggScan = gg.scans[0];
  gg.scans = Array.from({ length: Math.ceil(n / 10) }, (_, c) => {
    const scan = clone(ggScan);
    scan.id = randomBytes(20).toString('hex');
    scan.entities_with_incidents = Array.from({ length: 10 }, (_, k) => {
      const e = clone(ggEntity);
      e.filename = file(c * 10 + k);
      e.incidents[0].ignore_sha = randomBytes(32).toString('hex');
      return e;
    });
    return scan;
  });

  const np = readFileSync(join(FIXTURES, 'noseyparker', 'v0.22.jsonl'), 'utf8').split('\n')[0]!;
  const npFinding = JSON.parse(np) as Json;
  const npLines = Array.from({ length: n }, (_, i) => {
    const f = clone(npFinding);
    const groups = [Buffer.from(fake(i)).toString('base64')];
    f.finding_id = randomBytes(20).toString('hex');
    f.groups = groups;
    for (const m of f.matches) {
      m.groups = groups;
      m.provenance[0].path = `./${file(i)}`;
    }
    return JSON.stringify(f);
  });

  const tv = template<Json>('trivy', 'image.json');
  const tvSecret = tv.Results[1].Secrets[0];
  tv.Results = [
    tv.Results[0],
    ...Array.from({ length: Math.ceil(n / 5) }, (_, t) => ({
      Target: `/app/${file(t)}`,
      Class: 'secret',
      Secrets: Array.from({ length: 5 }, (_, k) => {
        const secret = clone(tvSecret);
        secret.StartLine = secret.EndLine = k + 1;
        return secret;
      }),
    })),
  ];

  const prowler = template<Json[]>('prowler', 'v5-ocsf.json');
  const ocsf = Array.from({ length: n }, (_, i) => {
    const f = clone(prowler[i % prowler.length]!);
    f.finding_info.uid = `${f.finding_info.uid}-${i}`;
    f.resources[0].uid = `${f.resources[0].uid}-${i}`;
    return f;
  });

  const sarif = template<Json>('sarif', 'gitleaks-8.sarif');
  const sarifResult = sarif.runs[0].results[0];
  sarif.runs[0].results = Array.from({ length: n }, (_, i) => {
    const r = clone(sarifResult);
    r.locations[0].physicalLocation.artifactLocation.uri = file(i);
    r.locations[0].physicalLocation.region.snippet.text = fake(i);
    return r;
  });

  return [
    { format: 'gitlab', label: 'GitLab secret detection', lines: false, content: JSON.stringify(gl, null, 2) },
    { format: 'detect-secrets', label: 'detect-secrets baseline', lines: false, content: JSON.stringify(ds, null, 2) },
    { format: 'ggshield', label: 'ggshield JSON', lines: false, content: JSON.stringify(gg) },
    { format: 'noseyparker', label: 'Nosey Parker JSON lines', lines: true, content: npLines.join('\n') },
    { format: 'trivy', label: 'Trivy JSON secrets', lines: false, content: JSON.stringify(tv, null, 2) },
    { format: 'ocsf', label: 'Prowler JSON-OCSF', lines: false, content: JSON.stringify(ocsf, null, 2) },
    { format: 'sarif', label: 'SARIF (gitleaks 8)', lines: false, content: JSON.stringify(sarif, null, 2) },
  ];
}

/** The fastest round: on a shared machine the other rounds measure the neighbours too. */
const best = (xs: number[]) => Math.min(...xs);

async function drain(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  if (Symbol.asyncIterator in records) for await (const outcome of records) void outcome;
  else for (const outcome of records) void outcome;
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Parse + normalise ratio per format (printed, and returned for bench/out/results.json). */
export async function benchParseFormats(options: { dir: string; ctx: ParseContext; records: number }) {
  const n = options.records;
  const out: Record<
    string,
    { records: number; jsonParseMs: number; parseAndNormaliseMs: number; ratioVsJsonParse: number }
  > = {};
  for (const report of reports(n)) {
    const path = join(options.dir, `parse-${report.format}.${report.lines ? 'jsonl' : 'json'}`);
    writeFileSync(path, report.content);
    const baseline = () => {
      const text = readFileSync(path, 'utf8');
      if (report.lines) for (const line of text.split('\n')) JSON.parse(line);
      else JSON.parse(text);
    };
    const normalise = async () => drain((await openReport(path, { ctx: options.ctx, format: report.format })).records);
    const parse: number[] = [];
    const normalised: number[] = [];
    for (let r = 0; r < 15; r++) {
      // The first rounds warm the JIT for the TypeScript path; they are dropped.
      if (r < 3) {
        baseline();
        await normalise();
        continue;
      }
      parse.push((await time(() => [0, 1, 2].forEach(baseline))) / 3);
      normalised.push(
        (await time(async () => {
          for (let k = 0; k < 3; k++) await normalise();
        })) / 3,
      );
    }
    out[report.format] = {
      records: n,
      jsonParseMs: best(parse),
      parseAndNormaliseMs: best(normalised),
      ratioVsJsonParse: best(normalised) / best(parse),
    };
    console.log(
      `parse + normalise ${report.label.padEnd(26)} ${best(normalised).toFixed(1)} ms vs JSON.parse ${best(parse).toFixed(1)} ms → ${(best(normalised) / best(parse)).toFixed(2)}× (target ≤ 3×)`,
    );
  }
  return out;
}
