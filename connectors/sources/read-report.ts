import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import type { RecordOutcome } from '@core/ingest';
import { UnreadableReportError } from '@core/errors';
import { ZodError } from 'zod';
import { lineAndColumn, locateJsonError } from './json-error';
import { toRecordOutcome } from './outcome';
import { describeIssues } from '@core/problems';
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

/** The last non-empty line of a file, read from its end (cheap truncation check for JSON lines). */
async function lastLine(path: string, size: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const chunk = Math.min(size, 1024 * 1024);
    const buffer = Buffer.alloc(chunk);
    await handle.read(buffer, 0, chunk, size - chunk);
    const lines = buffer
      .toString('utf8')
      .split(/[\r\n]/)
      .map((l) => l.trim())
      .filter(Boolean);
    return lines[lines.length - 1] ?? '';
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
    size = (await stat(path)).size;
  } catch (err) {
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
  const head = size === 0 ? '' : await firstLine(path);
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

  // A minified document is its own first line, already read and parsed: not again.
  let doc: unknown;
  if (!moreThanOneLine && headParsed.ok) doc = headParsed.value;
  else {
    // Decoded in one go: readFile(path, 'utf8') decodes chunk by chunk, and JSON.parse of the
    // string it builds is measurably slower.
    const text = (await readFile(path)).toString('utf8');
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
    records: iterateDocument(records, format, options.ctx),
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

function* iterateDocument(records: unknown[], format: SourceFormat, ctx: ParseContext): Generator<RecordOutcome> {
  for (let i = 0; i < records.length; i++) yield outcome(format, i + 1, records[i], ctx);
}

async function* streamLines(path: string, format: SourceFormat, ctx: ParseContext): AsyncGenerator<RecordOutcome> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
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
  } finally {
    lines.close();
    stream.destroy();
  }
}
