/** Parse + normalise of a Gitleaks report against JSON.parse of the same bytes (target ≤ 3×). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReport } from '../connectors/sources/read-report';
import { benchParseFormats } from './parse-formats';
import { f, gitleaksReport, median, time, type BenchTopic } from './harness';

/** Steps through a report's outcomes the way ingestRecords does: a document synchronously, lines with for-await. */
async function drain(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  if (Symbol.asyncIterator in records) for await (const outcome of records) void outcome;
  else for (const outcome of records) void outcome;
}

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
    const parse: number[] = [];
    const normalise: number[] = [];
    for (let r = 0; r < 12; r++) {
      // The first rounds warm the JIT for the TypeScript path (JSON.parse is native); they are dropped.
      if (r < 3) {
        JSON.parse(readFileSync(file, 'utf8'));
        const warm = await openReport(file, { ctx: parseCtx });
        await drain(warm.records);
        continue;
      }
      // Three passes per timing, so each side pays for most of its own garbage collection
      // rather than for what the other left behind.
      parse.push(
        (await time(async () => {
          for (let k = 0; k < 3; k++) JSON.parse(readFileSync(file, 'utf8'));
        })) / 3,
      );
      normalise.push(
        (await time(async () => {
          for (let k = 0; k < 3; k++) {
            const report = await openReport(file, { ctx: parseCtx });
            await drain(report.records);
          }
        })) / 3,
      );
    }
    return {
      records: ctx.n,
      jsonParseMs: median(parse),
      parseAndNormaliseMs: median(normalise),
      ratioVsJsonParse: median(normalise) / median(parse),
      target: 3,
    };
  },
  print: (r) => [
    `parse + normalise               ${f(r.parseAndNormaliseMs, 1)} ms vs JSON.parse ${f(r.jsonParseMs, 1)} ms → ${f(r.ratioVsJsonParse)}× (target ≤ ${r.target}×)`,
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
