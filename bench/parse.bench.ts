/**
 * Parse + normalise of a Gitleaks report against JSON.parse of the same bytes (target ≤ 3×),
 * measured as bench/parse-formats.ts measures every other format (see `compare` there).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReport } from '../connectors/sources/read-report';
import { benchParseFormats, compare, drain, readText } from './parse-formats';
import { f, gitleaksReport, type BenchTopic } from './harness';

export interface ParseResult {
  records: number;
  jsonParseMs: number;
  parseAndNormaliseMs: number;
  ratioVsJsonParse: number;
  target: number;
}

export const parseBench: BenchTopic<ParseResult> = {
  name: 'parse',
  async run(ctx) {
    const file = join(ctx.dir, 'parse.json');
    writeFileSync(file, gitleaksReport(ctx.n, 'parse'));
    const parseCtx = { hasher: ctx.hasher, receivedAt: ctx.clock.now().toISOString() };
    // The reader as ingest opens a report: format detected, not named.
    const { baselineMs, subjectMs, ratio } = await compare(
      async () => void JSON.parse(await readText(file)),
      async () => drain((await openReport(file, { ctx: parseCtx })).records),
    );
    return {
      records: ctx.n,
      jsonParseMs: baselineMs,
      parseAndNormaliseMs: subjectMs,
      ratioVsJsonParse: ratio,
      target: 3,
    };
  },
  print: (r) => [
    `parse + normalise ${'gitleaks (format detected)'.padEnd(26)} ${f(r.parseAndNormaliseMs, 1)} ms vs JSON.parse ${f(r.jsonParseMs, 1)} ms → ${f(r.ratioVsJsonParse)}× (target ≤ ${r.target}×)`,
  ],
};

/** bench/parse-formats.ts (every scanner format), as a topic; it prints its own table. */
export const parseFormatsBench: BenchTopic<unknown> = {
  name: 'parse-formats',
  run: (ctx) =>
    benchParseFormats({
      dir: ctx.dir,
      ctx: { hasher: ctx.hasher, receivedAt: ctx.clock.now().toISOString() },
      records: ctx.n,
    }),
  print: () => [],
};
