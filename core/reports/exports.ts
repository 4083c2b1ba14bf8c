import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CloseloopError, InputError } from '../shared/errors';
import { FindingIdSchema } from '../finding/identity';
import type { Policy } from '../policy/policy';
import { renderReport } from './render';
import { REPORT_KINDS, computeReport, reportOptionsFor } from './reports';
import type { ReportSource } from './ports';

/**
 * Report exports: a report too large to answer within an API call (API Gateway gives 29 s) is
 * computed in the background at a pinned instant and kept as a file an auditor downloads. The
 * files are the state: `exports/<id>/request.json` when asked, the report file and
 * `exports/<id>/result.json` (size, SHA-256, rows, or the error) when done.
 */
export const EXPORT_FORMATS = ['csv', 'html', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const ReportExportRequestSchema = z.object({
  id: z.uuid(),
  kind: z.enum(REPORT_KINDS),
  format: z.enum(EXPORT_FORMATS),
  /** The instant the report is computed at (the hub's clock when it was asked for). */
  at: z.iso.datetime(),
  requestedBy: z.string().min(1),
  parameters: z.object({
    since: z.iso.datetime().optional(),
    owner: z.string().min(1).max(200).optional(),
    finding: FindingIdSchema.optional(),
    actor: z.string().min(1).max(200).optional(),
    validAfterDays: z.number().int().min(1).max(365).optional(),
  }),
});
export type ReportExportRequest = z.infer<typeof ReportExportRequestSchema>;

export const ReportExportResultSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('done'),
    finishedAt: z.string(),
    file: z.string(),
    filename: z.string(),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    rows: z.number().int().nonnegative(),
  }),
  z.object({ status: z.literal('failed'), finishedAt: z.string(), error: z.string() }),
]);
export type ReportExportResult = z.infer<typeof ReportExportResultSchema>;

export type ReportExportStatus = { id: string; request: ReportExportRequest } & (
  { status: 'pending' } | ReportExportResult
);

/** Where export files are kept: S3 on AWS, a directory locally. */
export interface ExportFiles {
  put(key: string, body: string, contentType: string): Promise<void>;
  /** The text of a file, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /** A short-lived link that downloads the file under `filename`. */
  downloadUrl(key: string, filename: string): Promise<string>;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  json: 'application/json',
};
/** The content type of an export file, by its extension. */
export function exportContentType(filename: string): string {
  const extension = filename.slice(filename.lastIndexOf('.') + 1);
  return (EXPORT_FORMATS as readonly string[]).includes(extension)
    ? CONTENT_TYPES[extension as ExportFormat]
    : 'application/octet-stream';
}
const requestKey = (id: string) => `exports/${id}/request.json`;
const resultKey = (id: string) => `exports/${id}/result.json`;

export class ExportNotFoundError extends CloseloopError {
  constructor(id: string, options?: ErrorOptions) {
    super(`no report export ${id}`, options);
    this.name = 'ExportNotFoundError';
  }
}

/** Records the request (so its id is known from the first moment); the caller then starts the work. */
export async function recordExportRequest(request: ReportExportRequest, files: ExportFiles): Promise<void> {
  await files.put(requestKey(request.id), JSON.stringify(ReportExportRequestSchema.parse(request)), CONTENT_TYPES.json);
}

/**
 * Computes and stores one export. A report that cannot be computed (e.g. an unknown finding) is
 * recorded as failed with its reason; an infrastructure failure throws, so the worker is retried.
 * Running it again for the same request rewrites the same file.
 */
export async function runReportExport(
  input: unknown,
  deps: { source: ReportSource; policy: Policy; files: ExportFiles; now: () => Date },
): Promise<ReportExportResult> {
  const request = ReportExportRequestSchema.parse(input);
  const options = reportOptionsFor(new Date(request.at), deps.policy, request.parameters);
  let result: ReportExportResult;
  try {
    const report = await computeReport(request.kind, deps.source, options);
    const body = renderReport(report, request.format);
    const filename = `closeloop-${request.kind}-${request.at.slice(0, 10)}.${request.format}`;
    const file = `exports/${request.id}/${filename}`;
    await deps.files.put(file, body, CONTENT_TYPES[request.format]);
    result = {
      status: 'done',
      finishedAt: deps.now().toISOString(),
      file,
      filename,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
      rows: report.sections[0]?.rows.length ?? 0,
    };
  } catch (err) {
    // Only the request's own problem is final; a store or S3 failure throws, so the work is retried.
    if (!(err instanceof InputError)) throw err;
    result = { status: 'failed', finishedAt: deps.now().toISOString(), error: err.message };
  }
  await deps.files.put(resultKey(request.id), JSON.stringify(result), CONTENT_TYPES.json);
  return result;
}

/** Where an export stands; a download link when it is done. */
export async function exportStatus(
  id: string,
  files: ExportFiles,
): Promise<ReportExportStatus & { downloadUrl?: string }> {
  const requestText = await files.get(requestKey(id));
  if (!requestText) throw new ExportNotFoundError(id);
  const request = ReportExportRequestSchema.parse(JSON.parse(requestText));
  const resultText = await files.get(resultKey(id));
  if (!resultText) return { id, request, status: 'pending' };
  const result = ReportExportResultSchema.parse(JSON.parse(resultText));
  if (result.status === 'failed') return { id, request, ...result };
  return { id, request, ...result, downloadUrl: await files.downloadUrl(result.file, result.filename) };
}
