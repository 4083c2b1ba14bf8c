/**
 * Where a JSON text stops being valid. Used only after JSON.parse failed, to say where,
 * because V8's own message quotes the surrounding text (which may hold a secret) and does
 * not always give a position.
 */
export function locateJsonError(text: string): { offset: number; truncated: boolean } {
  const n = text.length;
  let i = 0;
  const at = () => ({ offset: i, truncated: i >= n });
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  /** A string from its opening quote; false where it breaks (i at the break). */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return true;
      }
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) return false;
          }
        } else if (i >= n || !'"\\/bfnrt'.includes(text[i]!)) return false;
      } else if (ch < ' ') return false;
      i++;
    }
    return false;
  };
  const literal = (word: string): boolean => {
    for (const ch of word) {
      if (text[i] !== ch) return false;
      i++;
    }
    return true;
  };
  const scalar = (): boolean => {
    const ch = text[i];
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m || m[0] === '-') return false;
      i += m[0].length;
      return true;
    }
    return false;
  };
  /** `"key":` of an object member; false where it breaks. */
  const key = (): boolean => {
    ws();
    if (text[i] !== '"' || !string()) return false;
    ws();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };
  // Iterative, with an explicit stack of open containers: a document nested 100,000 levels
  // deep (truncated or not) must not exhaust the call stack.
  const open: Array<'[' | '{'> = [];
  let expectValue = true;
  for (;;) {
    ws();
    if (expectValue) {
      const ch = text[i];
      if (ch === '{' || ch === '[') {
        i++;
        ws();
        if (text[i] === (ch === '{' ? '}' : ']')) {
          i++;
          expectValue = false;
          continue;
        }
        open.push(ch);
        if (ch === '{' && !key()) return at();
        continue;
      }
      if (!scalar()) return at();
      expectValue = false;
      continue;
    }
    const top = open[open.length - 1];
    if (top === undefined) return i < n ? at() : { offset: n, truncated: false };
    if (text[i] === ',') {
      i++;
      if (top === '{' && !key()) return at();
      expectValue = true;
      continue;
    }
    if (text[i] === (top === '{' ? '}' : ']')) {
      i++;
      open.pop();
      continue;
    }
    return at();
  }
}

/** `line L, column C` of an offset (1-based). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
