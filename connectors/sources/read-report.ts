import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { RecordOutcome } from '@core/ingest/ingest';
import { UnreadableReportError } from '@core/shared/errors';
import { ZodError } from 'zod';
import { lineAndColumn, locateJsonError } from './json-error';
import { toRecordOutcome } from './outcome';
import { describeIssues, formatPath } from '@core/shared/problems';
import { redactRecord } from '@core/shared/redaction';
import { SOURCE_FORMATS, formatByName } from './registry';
import type { FormatName, ParseContext, SourceFormat } from './types';

export interface OpenedReport {
  format: SourceFormat;
  /** Total records when known up front (document formats), for a progress bar. */
  total?: number;
  records: AsyncIterable<RecordOutcome> | Iterable<RecordOutcome>;
  /** The scanner the report comes from, as far as the format or the report says: a report that finds nothing is its clean scan. */
  scanner?: string;
}

/** Where a text that JSON.parse refused stops being JSON, without echoing any of it. */
export function jsonErrorLocation(text: string): string {
  const { offset, truncated } = locateJsonError(text);
  const { line, column } = lineAndColumn(text, offset);
  return truncated
    ? `it ends before the JSON is complete (line ${line}); the file looks truncated`
    : `not valid JSON at line ${line}, column ${column}`;
}

/** What is wrong with one JSON line, e.g. `is not valid JSON at column 12`. */
function lineProblem(line: string): string {
  const { offset, truncated } = locateJsonError(line);
  return truncated ? 'is incomplete JSON' : `is not valid JSON at column ${offset + 1}`;
}

const CHUNK = 1024 * 1024;
const isBreak = (b: number | undefined) => b === 0x0a || b === 0x0d;
const isBlank = (b: number | undefined) => isBreak(b) || b === 0x20 || b === 0x09;

/**
 * The last non-empty line of a file, read from its end (cheap truncation check for JSON lines):
 * 1 MiB at a time, as far back as the line goes, so a last line longer than a chunk is whole.
 */
async function lastLine(path: string, size: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let end = size;
    let sawContent = false;
    while (end > 0) {
      const length = Math.min(end, CHUNK);
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, end - length);
      chunks.unshift(chunk);
      end -= length;
      let i = length - 1;
      if (!sawContent) {
        while (i >= 0 && isBlank(chunk[i])) i--;
        if (i >= 0) sawContent = true;
      }
      while (i >= 0 && !isBreak(chunk[i])) i--;
      if (sawContent && i >= 0) break;
    }
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split(/[\r\n]/);
    for (let k = lines.length - 1; k >= 0; k--) if (lines[k]!.trim() !== '') return lines[k]!.trim();
    return '';
  } finally {
    await handle.close();
  }
}

/**
 * The first non-blank line of a file, trimmed. Read in chunks with a file handle rather than
 * a stream and a line reader, which cost more than parsing a small report. A line may end in
 * \n, \r\n or \r, as for readline. A file that is one long line (minified JSON) is read whole.
 */
async function firstLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const decoder = new StringDecoder('utf8');
    const pieces: string[] = [];
    for (let position = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      position += bytesRead;
      const piece = bytesRead === 0 ? decoder.end() : decoder.write(buffer.subarray(0, bytesRead));
      LINE_BREAK.lastIndex = 0;
      let start = 0;
      for (let brk = LINE_BREAK.exec(piece); brk; brk = LINE_BREAK.exec(piece)) {
        pieces.push(piece.slice(start, brk.index));
        const line = pieces.join('').trim();
        if (line !== '') return line;
        pieces.length = 0;
        start = brk.index + 1;
      }
      pieces.push(piece.slice(start));
      if (bytesRead === 0) return pieces.join('').trim();
    }
  } finally {
    await handle.close();
  }
}

const LINE_BREAK = /[\r\n]/g;

/** Files read whole to find their first line. */
const WHOLE_READ = 8 * 1024 * 1024;

/** The first non-blank line of a file already read, trimmed (line breaks as for firstLine). */
function firstLineOf(bytes: Buffer): string {
  let start = 0;
  for (;;) {
    while (start < bytes.length && isBlank(bytes[start])) start++;
    if (start >= bytes.length) return '';
    const lf = bytes.indexOf(0x0a, start);
    const cr = bytes.indexOf(0x0d, start);
    const end = lf === -1 ? (cr === -1 ? bytes.length : cr) : cr === -1 ? lf : Math.min(lf, cr);
    const line = bytes.toString('utf8', start, end).trim();
    if (line !== '') return line;
    start = end + 1;
  }
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Where and why is worked out by locateJsonError; V8's message may quote the text.
    return { ok: false };
  }
}

/**
 * Hides the context that parsers attach to records (`{ __sarifRun, result }`, `{ __scan, result }`…)
 * before a record is quarantined.
 */
function quarantineView(record: unknown): unknown {
  if (record && typeof record === 'object' && 'result' in record && Object.keys(record).some((k) => k.startsWith('__')))
    return (record as { result: unknown }).result;
  return record;
}

function outcome(format: SourceFormat, recordNo: number, record: unknown, ctx: ParseContext): RecordOutcome {
  const result = format.normalize(record, ctx);
  // Only a rejected record is kept (redacted), so only then is its context stripped.
  return toRecordOutcome(recordNo, result.kind === 'rejected' ? quarantineView(record) : record, result);
}

/**
 * Opens a scanner report: checks that it is readable as a whole before anything is written
 * (empty, not JSON, truncated → UnreadableReportError), detects the format unless forced,
 * and yields one outcome per record. JSON lines are streamed (flat memory); JSON documents
 * are parsed whole.
 */
export async function openReport(
  path: string,
  options: { format?: FormatName | 'auto'; ctx: ParseContext; displayName?: string },
): Promise<OpenedReport> {
  const name = options.displayName ?? path;
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new UnreadableReportError(name, 'is a directory, not a report file');
    size = info.size;
  } catch (err) {
    if (err instanceof UnreadableReportError) throw err;
    throw new UnreadableReportError(
      name,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read',
      { cause: err },
    );
  }
  const forced = options.format && options.format !== 'auto' ? formatByName(options.format) : undefined;

  // JSON lines when the first non-empty line is a whole JSON object and either more follows
  // or it is a record of a JSON-lines format. A pretty-printed document's first line ("[" or
  // "{") is not valid JSON on its own, so documents never take this path.
  // A report of up to 8 MiB is read in one go (chunked reads of its first line cost more than
  // the read), and a document is then parsed from those bytes.
  const bytes = size > 0 && size <= WHOLE_READ ? await readFile(path) : undefined;
  const head = size === 0 ? '' : bytes ? firstLineOf(bytes) : await firstLine(path);
  if (head === '') {
    // JSON-lines scanners (TruffleHog, Nosey Parker) write nothing when they find nothing.
    if (forced?.shape === 'lines')
      return { format: forced, total: 0, records: [], scanner: forced.scanner?.(undefined) };
    const what = size === 0 ? 'the file is empty' : 'the file is empty (only whitespace)';
    throw new UnreadableReportError(
      name,
      forced
        ? what
        : `${what}; if it is the clean scan of a JSON-lines scanner (${linesFormats()}), pass --format to ingest it`,
    );
  }
  const headParsed = tryParse(head);
  const headIsObject =
    headParsed.ok &&
    typeof headParsed.value === 'object' &&
    headParsed.value !== null &&
    !Array.isArray(headParsed.value);
  const moreThanOneLine = size > Buffer.byteLength(head) + 2;
  const useLines = forced
    ? forced.shape === 'lines' && (!forced.records || (headIsObject && moreThanOneLine))
    : headIsObject &&
      (moreThanOneLine || SOURCE_FORMATS.some((f) => f.shape === 'lines' && f.detect(headParsed.value)));

  if (useLines) {
    if (!headParsed.ok) throw new UnreadableReportError(name, `line 1 ${lineProblem(head)}`);
    if (!headIsObject)
      throw new UnreadableReportError(name, `line 1 is not a JSON object: ${forced!.label} has one object per line`);
    const format = forced ?? SOURCE_FORMATS.find((f) => f.shape === 'lines' && f.detect(headParsed.value));
    if (!format)
      throw new UnreadableReportError(
        name,
        `not a recognised report format (${describeFormats()}); name one with --format`,
      );
    const tail = await lastLine(path, size);
    if (!tryParse(tail).ok)
      throw new UnreadableReportError(name, 'its last line is not complete JSON; the file looks truncated');
    return { format, records: streamLines(path, format, options.ctx), scanner: format.scanner?.(undefined) };
  }

  // A minified document is its own first line, already read and parsed: not again (unless it
  // holds a replacement character, which may stand for bytes that are not UTF-8).
  let doc: unknown;
  let validUtf8 = true;
  if (!moreThanOneLine && headParsed.ok && !head.includes('\ufffd')) doc = headParsed.value;
  else {
    // Decoded in one go: readFile(path, 'utf8') decodes chunk by chunk, and JSON.parse of the
    // string it builds is measurably slower.
    const all = bytes ?? (await readFile(path));
    let text: string;
    try {
      text = utf8.decode(all);
    } catch {
      // Read anyway; the records that hold a replaced character are refused one by one.
      validUtf8 = false;
      text = all.toString('utf8');
    }
    const parsed = tryParse(text);
    if (!parsed.ok) throw new UnreadableReportError(name, jsonErrorLocation(text));
    doc = parsed.value;
  }
  if (!forced && (doc === null || (Array.isArray(doc) && doc.length === 0)))
    throw new UnreadableReportError(
      name,
      `${doc === null ? 'null' : 'an empty list ([])'} does not say which scanner wrote it; if it is a clean scan (${emptyWriters(doc)}), pass --format to ingest it`,
    );
  const format = forced ?? SOURCE_FORMATS.find((f) => f.records && f.detect(doc));
  if (!format)
    throw new UnreadableReportError(
      name,
      `not a recognised report format (${describeFormats()}); name one with --format`,
    );
  if (!format.records) throw new UnreadableReportError(name, `not valid ${format.label}: expected JSON lines`);
  let records: unknown[];
  try {
    records = format.records(doc);
  } catch (err) {
    const detail = err instanceof ZodError ? describeIssues(err, doc).join('; ') : (err as Error).message;
    throw new UnreadableReportError(name, `not a valid ${format.label}: ${detail}`, { cause: err });
  }
  if (!Array.isArray(records)) throw new UnreadableReportError(name, `not a valid ${format.label}`);
  return {
    format,
    total: records.length,
    records: iterateDocument(records, format, options.ctx, validUtf8),
    scanner: format.scanner?.(doc),
  };
}

/** Formats whose scanners write JSON lines (an empty file when they find nothing). */
function linesFormats(): string {
  return SOURCE_FORMATS.filter((f) => f.shape === 'lines')
    .map((f) => f.name)
    .join(', ');
}

/** Who writes `[]` or `null` for a clean scan. */
function emptyWriters(doc: unknown): string {
  return doc === null ? 'gitleaks 7 writes null' : 'gitleaks 8, GitHub, Prowler OCSF and Nosey Parker write []';
}

function describeFormats(): string {
  return `tried ${SOURCE_FORMATS.map((f) => f.name).join(', ')}`;
}

/**
 * The outcomes of a document's records, in order. `records` is the reader's own (made from the
 * document it parsed) and a generator runs once, so each record is let go as its turn comes: the
 * records already normalised are garbage at the next collection, rather than copied and promoted
 * with the rest of the report, and a large report's memory shrinks as it is ingested.
 */
function* iterateDocument(
  records: unknown[],
  format: SourceFormat,
  ctx: ParseContext,
  validUtf8: boolean,
): Generator<RecordOutcome> {
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    records[i] = undefined;
    const invalid = validUtf8 ? undefined : replacedCharacterAt(quarantineView(record));
    if (invalid !== undefined)
      yield {
        recordNo: i + 1,
        kind: 'rejected',
        problems: [`"${invalid}" is not valid UTF-8`],
        redactedRecord: redactRecord(quarantineView(record)),
      };
    else yield outcome(format, i + 1, record, ctx);
  }
}

/** Where in a record a string holds U+FFFD, the mark of bytes that were not UTF-8 (`Secret`, `locations[0].uri`). */
function replacedCharacterAt(value: unknown, path: ReadonlyArray<PropertyKey> = [], depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\ufffd') ? formatPath(path) : undefined;
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const found = replacedCharacterAt(v, [...path, key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The lines of a file as bytes, split at \n, \r\n or \r (as readline does), streamed. */
async function* byteLines(path: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  // A line longer than a chunk is kept in pieces and joined once, when it ends.
  let pieces: Buffer[] = [];
  let afterCr = false;
  try {
    for await (const data of stream as AsyncIterable<Buffer>) {
      let start = afterCr && data[0] === 0x0a ? 1 : 0;
      afterCr = false;
      let nextLf = data.indexOf(0x0a, start);
      let nextCr = data.indexOf(0x0d, start);
      for (;;) {
        if (nextLf !== -1 && nextLf < start) nextLf = data.indexOf(0x0a, start);
        if (nextCr !== -1 && nextCr < start) nextCr = data.indexOf(0x0d, start);
        const brk = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
        if (brk === -1) break;
        const piece = data.subarray(start, brk);
        yield pieces.length === 0 ? piece : Buffer.concat([...pieces, piece]);
        pieces = [];
        start = brk + 1;
        if (data[brk] === 0x0d) {
          if (brk + 1 < data.length) {
            if (data[brk + 1] === 0x0a) start++;
          } else afterCr = true;
        }
      }
      if (start < data.length) pieces.push(data.subarray(start));
    }
    if (pieces.length > 0) yield Buffer.concat(pieces);
  } finally {
    stream.destroy();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function* streamLines(path: string, format: SourceFormat, ctx: ParseContext): AsyncGenerator<RecordOutcome> {
  let lineNo = 0;
  for await (const bytes of byteLines(path)) {
    lineNo++;
    let line: string;
    try {
      line = utf8.decode(bytes);
    } catch {
      // Replacing the bytes would change the record (two secrets that differ there would merge): refused.
      yield {
        recordNo: lineNo,
        kind: 'rejected',
        problems: [`line ${lineNo} is not valid UTF-8`],
        redactedRecord: { unparsedLine: '[REDACTED]', length: bytes.length },
      };
      continue;
    }
    if (line.trim() === '') continue;
    const parsed = tryParse(line);
    if (!parsed.ok) {
      // One corrupt line is one bad record; it never sinks the rest of the file.
      yield {
        recordNo: lineNo,
        kind: 'rejected',
        problems: [`line ${lineNo} ${lineProblem(line)}`],
        redactedRecord: { unparsedLine: '[REDACTED]', length: line.length },
      };
      continue;
    }
    yield outcome(format, lineNo, parsed.value, ctx);
  }
}
