import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import type { Clock } from '@core/shared/clock';
import type { Policy } from '@core/policy/policy';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  EXPORT_FORMATS,
  ExportNotFoundError,
  exportStatus,
  recordExportRequest,
  type ExportFiles,
  type ReportExportRequest,
} from '@core/reports/exports';
import { REPORT_KINDS, UnknownFindingError, computeReport, reportOptionsFor, type Report } from '@core/reports/reports';
import { REPORT_FORMATS, renderReport } from '@core/reports/render';
import type { ReportSource } from '@core/reports/ports';
import { FindingIdSchema } from '@core/finding/identity';

export interface ReportApiDeps {
  /** A fresh source per request (it counts the reads of one report). */
  source: () => ReportSource;
  policy: Policy;
  clock: Clock;
  /**
   * The key report cursors are signed with (HMAC-SHA256). A cursor sets the instant every later
   * page is computed at, so only cursors this API wrote are accepted.
   */
  cursorKey: () => Promise<Buffer>;
}

const isoDate = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date');
const QuerySchema = z.object({
  format: z.enum(REPORT_FORMATS).default('json'),
  since: isoDate.optional(),
  owner: z.string().min(1).max(200).optional(),
  finding: FindingIdSchema.optional(),
  actor: z.string().min(1).max(200).optional(),
  validAfterDays: z.coerce.number().int().min(1).max(365).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().max(200).optional(),
});
const CursorSchema = z.object({
  at: z.iso.datetime(),
  offset: z.number().int().nonnegative(),
  /** The report the cursor pages through: kind and parameters, hashed. */
  report: z.string(),
});
type Cursor = z.infer<typeof CursorSchema>;

/** What one paged read is about: a cursor of one report does not page another. */
const reportIdentity = (kind: string, q: z.infer<typeof QuerySchema>) =>
  createHash('sha256')
    .update(JSON.stringify([kind, q.since, q.owner, q.finding, q.actor, q.validAfterDays]))
    .digest('base64url')
    .slice(0, 22);

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

/** `<payload>.<HMAC of the payload>`, both base64url. */
function signCursor(cursor: Cursor, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The cursor, when this API signed it for this very report; otherwise undefined. */
function readCursor(text: string, key: Buffer, report: string): Cursor | undefined {
  const [payload, signature, ...rest] = text.split('.');
  if (!payload || !signature || rest.length > 0) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const cursor = CursorSchema.safeParse(json);
  return cursor.success && cursor.data.report === report ? cursor.data : undefined;
}

/** Exports: where their files go and how the work is started (an asynchronous Lambda invoke on AWS). */
export interface ReportExportDeps {
  files: ExportFiles;
  start(request: ReportExportRequest): Promise<void>;
  clock: Clock;
}

const ExportQuerySchema = QuerySchema.pick({
  since: true,
  owner: true,
  finding: true,
  actor: true,
  validAfterDays: true,
}).extend({ format: z.enum(EXPORT_FORMATS).default('csv') });

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const badQuery = (error: z.ZodError) =>
  json(400, { message: error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ') });

/**
 * GET /reports/{kind}: the same computation and rendering as `closeloop report`. JSON pages
 * through the report's main table (`limit`, `cursor`); every page is computed at the instant of
 * the first (the cursor carries it), so the figures of one paged read agree. CSV and HTML are the
 * whole report, as a download.
 */
export async function handleReportRequest(
  event: Pick<APIGatewayProxyEvent, 'pathParameters' | 'queryStringParameters'>,
  deps: ReportApiDeps,
): Promise<APIGatewayProxyResult> {
  const kind = z.enum(REPORT_KINDS).safeParse(event.pathParameters?.kind);
  if (!kind.success)
    return json(404, {
      message: `no report ${JSON.stringify((event.pathParameters?.kind ?? '').slice(0, 40))}: one of ${REPORT_KINDS.join(', ')}`,
    });
  const query = QuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return badQuery(query.error);
  const q = query.data;
  const identity = reportIdentity(kind.data, q);
  let cursor: Cursor | undefined;
  if (q.cursor) {
    cursor = readCursor(q.cursor, await deps.cursorKey(), identity);
    if (!cursor) return json(400, { message: '"cursor" is not a cursor this API returned for this report' });
  }
  const now = cursor ? new Date(cursor.at) : deps.clock.now();
  let report: Report;
  try {
    report = await computeReport(kind.data, deps.source(), reportOptionsFor(now, deps.policy, q));
  } catch (err) {
    if (err instanceof UnknownFindingError) return json(404, { message: err.message });
    throw err;
  }
  if (q.format === 'csv' || q.format === 'html') {
    const filename = `closeloop-${kind.data}-${report.generatedAt.slice(0, 10)}.${q.format}`;
    return {
      statusCode: 200,
      headers: {
        'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'text/html; charset=utf-8',
        'content-disposition': `attachment; filename="${filename}"`,
      },
      body: renderReport(report, q.format),
    };
  }
  if (q.format === 'table')
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: renderReport(report, 'table'),
    };
  return json(200, page(report, cursor?.offset ?? 0, q.limit, identity, await deps.cursorKey()));
}

function page(report: Report, offset: number, limit: number, identity: string, key: Buffer) {
  const [main, ...rest] = report.sections;
  const rows = main!.rows.slice(offset, offset + limit);
  const next =
    offset + limit < main!.rows.length
      ? signCursor({ at: report.generatedAt, offset: offset + limit, report: identity }, key)
      : undefined;
  return {
    report: { ...report, sections: [{ ...main!, rows }, ...rest] },
    page: { offset, limit, totalRows: main!.rows.length, ...(next ? { nextCursor: next } : {}) },
  };
}

/**
 * POST /reports/{kind}/exports: a report of any size, computed in the background at the instant
 * of the request and kept as a file (CSV by default, HTML or JSON). Answers 202 with the export's
 * id; GET /reports/exports/{id} says when it is ready and gives a short-lived download link.
 */
export async function handleExportRequest(
  event: Pick<APIGatewayProxyEvent, 'pathParameters' | 'queryStringParameters'>,
  requestedBy: string,
  deps: ReportExportDeps,
): Promise<APIGatewayProxyResult> {
  const kind = z.enum(REPORT_KINDS).safeParse(event.pathParameters?.kind);
  if (!kind.success)
    return json(404, {
      message: `no report ${JSON.stringify((event.pathParameters?.kind ?? '').slice(0, 40))}: one of ${REPORT_KINDS.join(', ')}`,
    });
  const query = ExportQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return badQuery(query.error);
  const { format, since, ...rest } = query.data;
  const request: ReportExportRequest = {
    id: randomUUID(),
    kind: kind.data,
    format,
    at: deps.clock.now().toISOString(),
    requestedBy,
    parameters: { ...(since ? { since: new Date(since).toISOString() } : {}), ...rest },
  };
  await recordExportRequest(request, deps.files);
  await deps.start(request);
  const statusPath = `/reports/exports/${request.id}`;
  return {
    statusCode: 202,
    headers: { 'content-type': 'application/json', location: statusPath },
    body: JSON.stringify({ id: request.id, status: 'pending', statusPath, request }),
  };
}

/** GET /reports/exports/{id}: pending, failed (with the reason) or done (size, SHA-256, rows, download link). */
export async function handleExportStatus(
  id: string | undefined,
  deps: Pick<ReportExportDeps, 'files'>,
): Promise<APIGatewayProxyResult> {
  if (!id || !z.uuid().safeParse(id).success)
    return json(404, { message: 'an export id is a UUID that POST /reports/{kind}/exports returned' });
  try {
    return json(200, await exportStatus(id, deps.files));
  } catch (err) {
    if (err instanceof ExportNotFoundError) return json(404, { message: err.message });
    throw err;
  }
}
