import type { AuditEvent } from '@core/audit/chain';
import { terminalSafe } from '@core/shared/terminal';
import { table } from '@core/shared/text-table';

export { table };
export { publicEvent, publicFinding } from '@core/finding/views';
import type { IngestSummary } from '@core/ingest/ingest';
import type { Finding, RiskException } from '@core/finding/model';
import type { QuarantineEntry } from '@core/finding/ports';
import type { LocalTicket } from '@core/store/local-tracker';

export function findingsTable(findings: Finding[]): string {
  if (findings.length === 0) return 'No findings.';
  return table(
    ['ID', 'SEVERITY', 'STATUS', 'TYPE', 'OWNER', 'DUE', 'SOURCES', 'TITLE'],
    findings.map((f) => [
      f.id,
      f.severity,
      f.status,
      f.nhiType,
      f.owner ?? '-',
      dueColumn(f),
      [...new Set(f.sources.map((s) => s.scanner))].join(','),
      f.title,
    ]),
    [0, 0, 0, 0, 24, 0, 40, 70],
  );
}

/** When the finding next needs someone: its due date, or for an accepted risk the day the exception ends. */
function dueColumn(f: Finding): string {
  if (f.status === 'risk_accepted' && f.exception) return `${f.exception.until.slice(0, 10)} (exception ends)`;
  return f.dueAt ? f.dueAt.slice(0, 10) : '-';
}

export function summaryLine(s: IngestSummary): string {
  return `received ${s.received} · created ${s.created} · updated ${s.updated} · unchanged ${s.unchanged} · skipped ${s.skipped} · rejected ${s.rejected}`;
}

export function quarantineTable(entries: QuarantineEntry[]): string {
  if (entries.length === 0) return 'Quarantine is empty.';
  return table(
    ['RECEIVED', 'FILE', 'RECORD', 'FORMAT', 'PROBLEMS'],
    entries.map((e) => [
      e.receivedAt.replace(/\.\d{3}Z$/, 'Z'),
      e.file,
      String(e.recordNo),
      e.format,
      e.problems.join('; '),
    ]),
    [0, 40, 0, 0, 100],
  );
}

export function findingDetails(f: Finding, events: AuditEvent[]): string {
  const lines = [
    `${f.id}  ${f.title}`,
    `  severity ${f.severity} · status ${f.status} · ${f.nhiType} · validity ${f.validity}${f.publiclyExposed ? ' · PUBLIC' : ''}`,
    `  asset    ${f.asset.type} ${f.asset.id}`,
    `  owner    ${f.owner ?? '-'}   due ${f.dueAt ?? '-'}`,
    ...(f.exception ? [exceptionLine(f.exception)] : []),
    `  ticket   ${f.ticket ? `${f.ticket.key} (${f.ticket.system})${f.ticket.url ? ` ${f.ticket.url}` : ''}` : '-'}`,
    `  secret   ${f.secretPreview ?? '(not given by the scanner)'}`,
    `  OWASP NHI ${f.owaspNhi.join(', ')} · NIST CSF ${f.nistCsf.join(', ')}`,
    `  sources:`,
    ...f.sources.map(
      (s) => `    - ${s.scanner} ${s.ruleId} (${s.scannerId})${s.state === 'resolved' ? ' [resolved at source]' : ''}`,
    ),
    `  locations:`,
    ...f.locations.map(
      (l) =>
        `    - ${[l.repository, l.path ? `${l.path}${l.line !== undefined ? `:${l.line}` : ''}` : undefined, l.commit ? `@${l.commit.slice(0, 12)}` : undefined, l.resource, !l.path && l.url ? l.url : undefined].filter(Boolean).join(' ')}`,
    ),
    ...(f.locationsNotListed > 0 ? [`    … and ${f.locationsNotListed} more`] : []),
    `  events:`,
    ...events.flatMap((e) => [
      `    ${e.seq}. ${e.at} ${e.action} by ${e.actor}${e.reason ? ` — ${e.reason}` : ''}${e.evidenceRef ? ` [evidence ${e.evidenceRef}]` : ''}`,
      // A rotation's AWS calls (or, in a dry run, the calls it would make): names and refs only.
      ...(Array.isArray(e.data?.calls) ? (e.data.calls as string[]).map((call) => `         · ${call}`) : []),
    ]),
  ];
  // One line each: a value carrying a line feed or an escape sequence shows it, never acts on it.
  return lines.map((line) => terminalSafe(line)).join('\n');
}

function exceptionLine(e: RiskException): string {
  const decided = e.approvedBy ? `approved by ${e.approvedBy} at ${e.approvedAt}` : 'awaiting an approver';
  return `  exception until ${e.until} · requested by ${e.requestedBy} · ${decided} · reason: ${e.reason}${e.compensatingControl ? ` · compensating control: ${e.compensatingControl}` : ''}`;
}

export function ticketsTable(tickets: LocalTicket[]): string {
  if (tickets.length === 0) return 'No tickets in the local tracker.';
  return table(
    ['KEY', 'STATUS', 'PRIORITY', 'ASSIGNEE', 'DUE', 'FINDING', 'COMMENTS', 'SUMMARY'],
    tickets.map((t) => [
      t.key,
      t.status,
      t.priority,
      t.assignee,
      t.dueDate || '-',
      t.findingId,
      String(t.comments.length),
      t.summary,
    ]),
    [0, 0, 0, 24, 0, 0, 0, 70],
  );
}
