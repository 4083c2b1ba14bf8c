import { basename } from 'node:path';
import type { Clock } from '@core/shared/clock';
import type { SecretHasher } from '@core/finding/identity';
import {
  addSummary,
  emptyCoverage,
  emptySummary,
  ingestRecords,
  type IngestOptions,
  type IngestSummary,
} from '@core/ingest/ingest';
import type { CompletedScan } from '@core/lifecycle/rescan';
import { waitScope } from '@core/finding/waiting';
import type { FindingStore } from '@core/finding/ports';
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
  /** Lifecycles start with each commit (see IngestOptions). */
  launcher?: IngestOptions['launcher'];
  /**
   * Start lifecycles only while the last report is ingested: a finding an earlier report touched
   * and the last one does not is left for the caller's sweep, once every report is in, so a finding
   * two reports describe (one finds the key, the other verifies it) starts knowing both.
   */
  startWithLastReportOnly?: boolean;
  startUntil?: number;
  onStarted?: IngestOptions['onStarted'];
}

/**
 * Ingests report files. Every file is opened and checked first: one unreadable file stops
 * the command before anything is written (UnreadableReportError).
 */
export async function ingestReportFiles(
  files: string[],
  options: IngestReportsOptions,
): Promise<{
  total: IngestSummary;
  byFile: Array<{ file: string; format: string; summary: IngestSummary }>;
  scans: CompletedScan[];
}> {
  const receivedAt = options.clock.now().toISOString();
  const ctx = { hasher: options.hasher, receivedAt, ...(options.asset ? { asset: options.asset } : {}) };
  const opened: Array<{ file: string; report: OpenedReport }> = [];
  for (const file of files) {
    opened.push({ file, report: await openReport(file, { format: options.format ?? 'auto', ctx }) });
  }
  let total = emptySummary();
  const byFile: Array<{ file: string; format: string; summary: IngestSummary }> = [];
  const scans: CompletedScan[] = [];
  for (const [index, { file, report }] of opened.entries()) {
    const scope = emptyCoverage();
    const launcher = options.startWithLastReportOnly && index < opened.length - 1 ? undefined : options.launcher;
    const summary = await ingestRecords(report.records, {
      scope,
      store: options.store,
      clock: options.clock,
      reportName: basename(file),
      format: report.format.name,
      onProgress: (done) => options.onProgress?.(file, done, report.total),
      ...(launcher ? { launcher } : {}),
      ...(options.startUntil !== undefined ? { startUntil: options.startUntil } : {}),
      ...(options.onStarted ? { onStarted: options.onStarted } : {}),
    });
    byFile.push({ file, format: report.format.name, summary });
    total = addSummary(total, summary);
    // A report that found nothing names no scanner in its records: the format (or the report) says which.
    const scanner =
      scope.scanners.size === 1 ? [...scope.scanners][0] : scope.scanners.size === 0 ? report.scanner : undefined;
    if (options.asset) {
      // What `--asset` names is a repository (see the parsers): its own scope.
      scope.assets.add(options.asset);
      scope.scopes.add(waitScope({ id: options.asset }));
    }
    // A scan is only "clean" for what it covered as a whole: one scanner, known assets, every record read.
    if (scanner && scope.assets.size > 0 && !scope.partial && summary.rejected === 0)
      scans.push({
        reportName: basename(file),
        scanner,
        assets: scope.assets,
        scopes: scope.scopes,
        reported: scope.findingIds,
      });
  }
  return { total, byFile, scans };
}
