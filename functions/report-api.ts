import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import type { Clock } from '@core/clock';
import type { Policy } from '@core/policy';
import { REPORT_KINDS, computeReport, type Report } from '@core/reports/reports';
import { REPORT_FORMATS, renderReport } from '@core/reports/render';
import type { ReportSource } from '@core/reports/source';

export interface ReportApiDeps {
  /** A fresh source per request (it counts the reads of one report). */
  source: () => ReportSource;
  policy: Policy;
  clock: Clock;
}

const isoDate = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date');
const QuerySchema = z.object({
  format: z.enum(REPORT_FORMATS).default('json'),
  since: isoDate.optional(),
  owner: z.string().min(1).max(200).optional(),
  finding: z.string().regex(/^NHI-[0-9A-F]{16}$/, 'must look like NHI-0123456789ABCDEF').optional(),
  actor: z.string().min(1).max(200).optional(),
  validAfterDays: z.coerce.number().int().min(1).max(365).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().max(200).optional(),
});
const CursorSchema = z.object({ at: z.string(), offset: z.number().int().nonnegative() });

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * GET /reports/{kind}: the same computation and rendering as `closeloop report`. JSON pages
 * through the report's main table (`limit`, `cursor`); every page is computed at the instant of
 * the first (the cursor carries it), so the figures of one paged read agree. CSV and HTML are the
 * whole report, as a download.
 */
export async function handleReportRequest(event: Pick<APIGatewayProxyEvent, 'pathParameters' | 'queryStringParameters'>, deps: ReportApiDeps): Promise<APIGatewayProxyResult> {
  const kind = z.enum(REPORT_KINDS).safeParse(event.pathParameters?.kind);
  if (!kind.success) return json(404, { message: `no report ${JSON.stringify((event.pathParameters?.kind ?? '').slice(0, 40))}: one of ${REPORT_KINDS.join(', ')}` });
  const query = QuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return json(400, { message: query.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ') });
  const q = query.data;
  let cursor: z.infer<typeof CursorSchema> | undefined;
  if (q.cursor) {
    try {
      cursor = CursorSchema.parse(JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')));
    } catch {
      return json(400, { message: '"cursor" is not a cursor this API returned' });
    }
  }
  const now = cursor ? new Date(cursor.at) : deps.clock.now();
  const report = await computeReport(kind.data, deps.source(), {
    now,
    policy: deps.policy,
    ...(q.since ? { since: new Date(q.since) } : {}),
    ...(q.owner ? { owner: q.owner } : {}),
    ...(q.finding ? { findingId: q.finding } : {}),
    ...(q.actor ? { actor: q.actor } : {}),
    ...(q.validAfterDays ? { validAfterDays: q.validAfterDays } : {}),
  });
  if (q.format === 'csv' || q.format === 'html') {
    const filename = `closeloop-${kind.data}-${report.generatedAt.slice(0, 10)}.${q.format}`;
    return { statusCode: 200, headers: { 'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'text/html; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` }, body: renderReport(report, q.format) };
  }
  if (q.format === 'table') return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: renderReport(report, 'table') };
  return json(200, page(report, cursor?.offset ?? 0, q.limit));
}

function page(report: Report, offset: number, limit: number) {
  const [main, ...rest] = report.sections;
  const rows = main!.rows.slice(offset, offset + limit);
  const next = offset + limit < main!.rows.length ? Buffer.from(JSON.stringify({ at: report.generatedAt, offset: offset + limit })).toString('base64url') : undefined;
  return { report: { ...report, sections: [{ ...main!, rows }, ...rest] }, page: { offset, limit, totalRows: main!.rows.length, ...(next ? { nextCursor: next } : {}) } };
}
