import { basename } from 'node:path';
import type { Clock } from '@core/clock';
import type { SecretHasher } from '@core/identity';
import { addSummary, emptySummary, ingestRecords, type IngestSummary } from '@core/ingest';
import type { FindingStore } from '@core/ports';
import { openReport, type OpenedReport } from './read-report';
import type { FormatName } from './types';

export interface IngestReportsOptions {
  store: FindingStore;
  clock: Clock;
  hasher: SecretHasher;
  format?: FormatName | 'auto';
  asset?: string;
  /** Called as records are processed: (file, done, total if known). */
  onProgress?: (file: string, done: number, total: number | undefined) => void;
}

/**
 * Ingests report files. Every file is opened and checked first: one unreadable file stops
 * the command before anything is written (UnreadableReportError).
 */
export async function ingestReportFiles(files: string[], options: IngestReportsOptions): Promise<{ total: IngestSummary; byFile: Array<{ file: string; format: string; summary: IngestSummary }> }> {
  const receivedAt = options.clock.now().toISOString();
  const ctx = { hasher: options.hasher, receivedAt, ...(options.asset ? { asset: options.asset } : {}) };
  const opened: Array<{ file: string; report: OpenedReport }> = [];
  for (const file of files) {
    opened.push({ file, report: await openReport(file, { format: options.format ?? 'auto', ctx }) });
  }
  let total = emptySummary();
  const byFile: Array<{ file: string; format: string; summary: IngestSummary }> = [];
  for (const { file, report } of opened) {
    const summary = await ingestRecords(report.records, {
      store: options.store,
      clock: options.clock,
      reportName: basename(file),
      format: report.format.name,
      onProgress: (done) => options.onProgress?.(file, done, report.total),
    });
    byFile.push({ file, format: report.format.name, summary });
    total = addSummary(total, summary);
  }
  return { total, byFile };
}
