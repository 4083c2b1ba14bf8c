/**
 * Parse + normalise of each scanner format against JSON.parse of the same bytes (target ≤ 3×),
 * on reports of `n` records made from the project's fixture records (test/fixtures/scanners).
 * How the two are timed, and why that is fair, is `compare` below.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** Steps through a report's outcomes the way ingestRecords does: a document synchronously, lines with for-await. */
export async function drain(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  if (Symbol.asyncIterator in records) for await (const outcome of records) void outcome;
  else for (const outcome of records) void outcome;
}

/**
 * A minor garbage collection (the young generation only), outside any timed region: V8's `gc`,
 * exposed at run time (the bench runs under plain `tsx`), or undefined where the flag cannot be set.
 */
const collectYoung: (() => void) | undefined = (() => {
  try {
    if (typeof globalThis.gc !== 'function') setFlagsFromString('--expose-gc');
    const gc = typeof globalThis.gc === 'function' ? globalThis.gc : (runInNewContext('gc') as NodeJS.GCFunction);
    return () => gc({ type: 'minor' });
  } catch {
    // Without it the rounds still alternate; the figures are only noisier.
    return undefined;
  }
})();

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file's text, read and decoded as the reader does (fs/promises readFile, one UTF-8 decode), for
 * the baseline: readFileSync(path, 'utf8') costs measurably more, which would flatter every ratio.
 */
export async function readText(path: string): Promise<string> {
  return utf8.decode(await readFile(path));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<void> | void): Promise<number> {
  collectYoung?.();
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A subject's time against its baseline's: each the median of its rounds, and the median of the rounds' ratios. */
export interface Comparison {
  baselineMs: number;
  subjectMs: number;
  ratio: number;
}

/**
 * Times `subject` against `baseline`, fairly on a shared machine (2 cores, a neighbour running
 * its own benchmarks):
 * - both are warmed alike (the JIT, the file in the page cache) and the warm rounds are dropped;
 * - the rounds alternate which side runs first (AB, BA, AB…), so neither always runs right after
 *   the other, on a heap or a CPU the other has just used;
 * - the young generation is collected before every timed run (a minor GC, outside the time): each
 *   run starts on an empty nursery, so the scavenges a side pays for are those its own allocations
 *   cause, not hastened by garbage the other left. Not a full collection: after one, V8 shrinks the
 *   young generation and both sides run on a nursery far smaller than an ingest has (every time
 *   doubled in trials). Nor a timed collection at the end of each run: it would add the marking of
 *   the whole heap, the same on both sides, and pull every ratio towards 1. Old-generation garbage
 *   is collected when V8 decides, in either side's time; the alternation spreads that evenly.
 * - each time is the median of its rounds, so a burst from the neighbour moves a round, not the
 *   figure; the ratio is the median of the rounds' own ratios, as a round's two runs are adjacent
 *   in time and share the machine's load (on a quiet machine it is the ratio of the two medians;
 *   when the neighbour's load changes between rounds, it is the steadier of the two).
 */
export async function compare(
  baseline: () => Promise<void>,
  subject: () => Promise<void>,
  options: { warm?: number; rounds?: number } = {},
): Promise<Comparison> {
  const { warm = 3, rounds = 30 } = options;
  const base: number[] = [];
  const subj: number[] = [];
  for (let r = 0; r < warm + rounds; r++) {
    const first = r % 2 === 0;
    const a = first ? await timed(baseline) : 0;
    const b = await timed(subject);
    const c = first ? 0 : await timed(baseline);
    if (r < warm) continue;
    base.push(a + c);
    subj.push(b);
  }
  return { baselineMs: median(base), subjectMs: median(subj), ratio: median(subj.map((t, i) => t / base[i]!)) };
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
    // JSON.parse of the same bytes, read from disk as the reader reads them; JSON lines line by line.
    const baseline = async () => {
      const text = await readText(path);
      if (report.lines) for (const line of text.split('\n')) JSON.parse(line);
      else JSON.parse(text);
    };
    // Everything the format costs: opening and reading the file, detecting its format (as ingest
    // does: not named), parsing, validating, mapping, hashing.
    const detected = (await openReport(path, { ctx: options.ctx })).format.name;
    if (detected !== report.format) throw new Error(`${report.label}: detected as ${detected}, not ${report.format}`);
    const normalise = async () => drain((await openReport(path, { ctx: options.ctx })).records);
    const { baselineMs, subjectMs, ratio } = await compare(baseline, normalise);
    out[report.format] = {
      records: n,
      jsonParseMs: baselineMs,
      parseAndNormaliseMs: subjectMs,
      ratioVsJsonParse: ratio,
    };
    console.log(
      `parse + normalise ${report.label.padEnd(26)} ${subjectMs.toFixed(1)} ms vs JSON.parse ${baselineMs.toFixed(1)} ms → ${ratio.toFixed(2)}× (target ≤ 3×)`,
    );
  }
  return out;
}
