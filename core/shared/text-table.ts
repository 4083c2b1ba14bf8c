import { terminalSafe } from './terminal';
import { truncate } from './text';

/**
 * A plain-text table: columns padded to width, cells cut to `maxWidths` (0 = no limit) with an
 * ellipsis. Cells are scanner- and user-controlled text: control and bidi characters are shown
 * as escapes, never passed to the terminal.
 */
export function table(headers: string[], rows: string[][], maxWidths: number[] = []): string {
  const cut = (s: string, i: number) => {
    const safe = terminalSafe(s);
    return maxWidths[i] ? truncate(safe, maxWidths[i]) : safe;
  };
  const cells = rows.map((r) => r.map(cut));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}
