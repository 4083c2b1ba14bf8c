import type { Report } from '@core/reports/reports';
import { renderReport, toCsv } from '@core/reports/render';

const report: Report = {
  kind: 'exceptions',
  title: 'Exceptions <script>alert(1)</script>',
  generatedAt: '2026-11-20T12:00:00.000Z',
  parameters: { at: '2026-11-20T12:00:00.000Z', owner: 'team-a' },
  summary: [
    { label: 'active risk acceptances', value: 2 },
    { label: 'rate', value: null },
  ],
  sections: [
    {
      title: 'Active',
      columns: ['finding', 'reason', 'days left'],
      rows: [
        ['NHI-0000000000000001', 'vendor migration, "phase 2"\nends soon', 20],
        ['NHI-0000000000000002', '=HYPERLINK("http://evil.example","x")', 3],
        ['NHI-0000000000000003', null, 0],
      ],
      chart: { label: 0, value: 2, unit: 'days left' },
    },
  ],
};

describe('report rendering', () => {
  it('CSV: a header row, RFC 4180 quoting (commas, quotes, line breaks), empty cells, CRLF', () => {
    expect(toCsv(report.sections[0]!)).toBe(
      'finding,reason,days left\r\n' +
        'NHI-0000000000000001,"vendor migration, ""phase 2""\nends soon",20\r\n' +
        'NHI-0000000000000002,"\'=HYPERLINK(""http://evil.example"",""x"")",3\r\n' +
        'NHI-0000000000000003,,0\r\n',
    );
  });

  it('CSV: a cell a spreadsheet would run as a formula is neutralised; numbers (even negative) are not', () => {
    const csv = toCsv({
      title: 't',
      columns: ['a', 'b'],
      rows: [
        ['+1+1', -4],
        ['@SUM(A1)', 1],
        ['-cmd', 2],
      ],
    });
    expect(csv).toBe("a,b\r\n'+1+1,-4\r\n'@SUM(A1),1\r\n'-cmd,2\r\n");
  });

  it('HTML: one self-contained file (no scripts, no network), escaped text, an SVG chart, headline cards', () => {
    const html = renderReport(report, 'html');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('Exceptions &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/<svg role="img"[^>]*>.*<rect /s);
    expect(html).toContain('<div class="value">2</div><div class="label">active risk acceptances</div>');
  });

  it('table and JSON carry every section and figure', () => {
    const text = renderReport(report, 'table');
    expect(text).toContain('active risk acceptances  2');
    expect(text).toContain('rate                     -');
    expect(text).toContain('Active (3)');
    expect(JSON.parse(renderReport(report, 'json'))).toEqual(report);
  });
});
