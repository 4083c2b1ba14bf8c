/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts CSI and OSC
 * sequences: clearing the screen, OSC-8 links, retitling the window), DEL, C1 controls (U+009B is
 * a one-character CSI), and the bidirectional embeddings, overrides and isolates that reorder
 * what is shown (U+202A–U+202E, U+2066–U+2069, with the marks U+200E, U+200F and U+061C).
 * Scanner output reaches the terminal through file paths, titles and rule ids, so none of it is
 * printed as is.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/**
 * The same, line ends excepted (LF, and CR before LF: CSV's CRLF): for whole blocks of output
 * whose lines are the CLI's own. A lone CR returns to the start of the line, so it goes.
 */
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex -- as above
  /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * The text with every character a terminal would act on written as a visible `\uXXXX` escape
 * (the JSON spelling: in JSON output the value stays the same). `keepNewlines` keeps line feeds
 * for a block of output; a single value (a cell, a field) never keeps them, so it cannot forge
 * a line of its own.
 */
export function terminalSafe(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? UNSAFE_BUT_NEWLINE : UNSAFE, escape);
}
