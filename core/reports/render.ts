import { terminalSafe } from '../shared/terminal';
import { table } from '../shared/text-table';
import type { Cell, Report, ReportSection } from './reports';

export const REPORT_FORMATS = ['table', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const text = (c: Cell | undefined) => (c === null || c === undefined ? '' : String(c));

/** Renders a report: a text table, JSON, CSV (its main table) or one self-contained HTML file. */
export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return toCsv(report.sections[0]!);
    case 'html':
      return toHtml(report);
    case 'table':
      return toText(report);
  }
}

function toText(report: Report): string {
  const lines = [
    // Titles and parameters name owners and actors as given: shown, never acted on by the terminal.
    terminalSafe(
      `${report.title} — at ${report.generatedAt}${Object.entries(report.parameters)
        .filter(([k]) => k !== 'at')
        .map(([k, v]) => ` · ${k} ${v}`)
        .join('')}`,
    ),
    '',
  ];
  const width = Math.max(...report.summary.map((s) => s.label.length));
  for (const s of report.summary)
    lines.push(terminalSafe(`  ${s.label.padEnd(width)}  ${s.value === null ? '-' : String(s.value)}`));
  for (const section of report.sections) {
    lines.push('', terminalSafe(`${section.title} (${section.rows.length})`));
    lines.push(
      section.rows.length === 0
        ? '  none'
        : table(
            section.columns.map((c) => c.toUpperCase()),
            section.rows.map((r) => r.map((c) => (c === null ? '-' : String(c)))),
            section.columns.map(() => 60),
          ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * RFC 4180 CSV with a header row: a field with a comma, quote or line break is quoted and its
 * quotes doubled. A text field a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a
 * leading apostrophe (OWASP CSV injection).
 */
export function toCsv(section: ReportSection): string {
  const field = (c: Cell) => {
    let value = text(c);
    if (typeof c === 'string' && /^[=+\-@\t\r]/.test(value)) value = `'${value}`;
    return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
  };
  return [section.columns, ...section.rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A horizontal bar chart as inline SVG: one bar per row with a numeric value. */
function barChart(section: ReportSection): string {
  const chart = section.chart!;
  const bars = section.rows
    .map((r) => ({
      label: text(r[chart.label]),
      value: typeof r[chart.value] === 'number' ? (r[chart.value] as number) : 0,
    }))
    .slice(0, 30);
  if (bars.length === 0 || bars.every((b) => b.value === 0)) return '';
  const max = Math.max(...bars.map((b) => b.value));
  const rowHeight = 22;
  const labelWidth = 220;
  const barWidth = 420;
  const height = bars.length * rowHeight + 10;
  const rows = bars
    .map((b, i) => {
      const w = max === 0 ? 0 : Math.max(1, Math.round((b.value / max) * barWidth));
      const y = i * rowHeight + 5;
      return `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeHtml(b.label.slice(0, 34))}</text><rect x="${labelWidth}" y="${y}" width="${w}" height="16" rx="2"></rect><text x="${labelWidth + w + 6}" y="${y + 13}" class="v">${b.value}</text>`;
    })
    .join('');
  return `<figure><svg role="img" aria-label="${escapeHtml(`${section.title}: ${chart.unit ?? ''}`)}" viewBox="0 0 ${labelWidth + barWidth + 80} ${height}" width="100%">${rows}</svg><figcaption>${escapeHtml(chart.unit ?? '')} by ${escapeHtml(section.columns[chart.label] ?? '')}</figcaption></figure>`;
}

/** One self-contained file (inline CSS and SVG, no scripts, no network requests). */
function toHtml(report: Report): string {
  const cards = report.summary
    .map(
      (s) =>
        `<div class="card"><div class="value">${escapeHtml(s.value === null ? '–' : String(s.value))}</div><div class="label">${escapeHtml(s.label)}</div></div>`,
    )
    .join('');
  const sections = report.sections
    .map((section) => {
      const head = section.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
      const body =
        section.rows.length === 0
          ? `<tr><td colspan="${section.columns.length}" class="none">none</td></tr>`
          : section.rows
              .map(
                (r) =>
                  `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="n"' : ''}>${escapeHtml(text(c))}</td>`).join('')}</tr>`,
              )
              .join('');
      return `<section><h2>${escapeHtml(section.title)} <span class="count">(${section.rows.length})</span></h2>${section.chart ? barChart(section) : ''}<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></section>`;
    })
    .join('');
  const verification = report.verification
    ? `<p class="${report.verification.ok ? 'ok' : 'broken'}">Hash chains: ${report.verification.chains} verified over ${report.verification.events} events — ${report.verification.ok ? 'intact' : `BROKEN at ${escapeHtml(report.verification.firstBreak!.findingId)} event ${report.verification.firstBreak!.seq}`}</p>`
    : '';
  const params = Object.entries(report.parameters)
    .map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(v)}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>closeloop — ${escapeHtml(report.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.meta{color:#5b6475;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d9dee8;border-radius:6px;padding:10px 14px;min-width:150px}
.card .value{font-size:22px;font-weight:600}.card .label{color:#5b6475;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e4e8ef;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f4f6fa;font-weight:600}td:first-child{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}td.none{color:#8a93a5}
.count{color:#8a93a5;font-weight:400}svg text{font-size:12px;fill:#1d2330}svg text.v{fill:#5b6475}svg rect{fill:#3b6fd8}
figure{margin:8px 0 12px;max-width:760px}figcaption{color:#8a93a5;font-size:12px}.ok{color:#17743c}.broken{color:#b3261e;font-weight:600}
footer{margin-top:32px;color:#8a93a5;font-size:12px}
</style></head>
<body><h1>${escapeHtml(report.title)}</h1><p class="meta">${params}</p>
<div class="cards">${cards}</div>${verification}${sections}
<footer>closeloop ${escapeHtml(report.kind)} report · generated ${escapeHtml(report.generatedAt)}${report.reads ? ` · ${report.reads.requests} DynamoDB requests, ${report.reads.readUnits} read units` : ''}</footer>
</body></html>
`;
}
