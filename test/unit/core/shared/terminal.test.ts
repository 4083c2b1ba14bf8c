import { terminalSafe } from '@core/shared/terminal';
import { table } from '@core/shared/text-table';

describe('terminalSafe', () => {
  it('writes C0, DEL, C1 and bidi controls as visible \\u escapes', () => {
    expect(terminalSafe('a\u001b[2Jb\u007fc\u009bd\u202ee\u2066f\u200fg\th')).toBe(
      'a\\u001b[2Jb\\u007fc\\u009bd\\u202ee\\u2066f\\u200fg\\u0009h',
    );
  });

  it('keeps line ends (LF, CRLF) only for a block of output; a lone CR goes', () => {
    expect(terminalSafe('one\ntwo\r')).toBe('one\\u000atwo\\u000d');
    expect(terminalSafe('one\ntwo\r', { keepNewlines: true })).toBe('one\ntwo\\u000d');
    expect(terminalSafe('a,b\r\nc,d\r\n', { keepNewlines: true })).toBe('a,b\r\nc,d\r\n');
    expect(terminalSafe('a\r\n', {})).toBe('a\\u000d\\u000a');
  });

  it('leaves printable text alone, accents, CJK and emoji included', () => {
    const text = 'Ünïcødé 鍵 🔑 — “quoted” ‹ok›';
    expect(terminalSafe(text)).toBe(text);
  });

  it('gives JSON that parses to the same value', () => {
    const value = { path: 'x\u202ey\u0085z\u2069' };
    expect(JSON.parse(terminalSafe(JSON.stringify(value), { keepNewlines: true }))).toEqual(value);
  });

  it('is what tables print: a cell cannot clear the screen or break its row', () => {
    const out = table(['A', 'B'], [['\u001b[2J', 'x\ny']]);
    expect(out).toBe('A          B\n\\u001b[2J  x\\u000ay');
  });
});
