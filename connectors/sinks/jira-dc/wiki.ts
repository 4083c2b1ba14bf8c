import type { TicketDraft } from '@core/tickets/ports';

/** Jira keeps at most 32,767 characters in a text field; stay well below it. */
export const MAX_TEXT = 30_000;

/**
 * Jira wiki markup for text closeloop did not write itself (titles, paths, reasons): every
 * character the renderer gives a meaning (`*bold*`, `_italic_`, `{macro}`, `[link]`, `|table|`,
 * `!image!`, `-strike-`, `+under+`, `^sup^`, `~sub~`) is escaped with a backslash.
 */
export const escapeWiki = (text: string) => text.replace(/[\\{}[\]|*_!\-+^~#]/g, (c) => `\\${c}`);

/** Monospace needs only its own braces kept out. */
const monospace = (text: string) => `{{${text.replace(/[{}]/g, (c) => `\\${c}`)}}}`;

function clip(lines: string[]): string {
  let out = '';
  for (const line of lines) {
    if (out.length + line.length + 1 > MAX_TEXT) return `${out}…`;
    out += `${out ? '\n' : ''}${line}`;
  }
  return out;
}

/** The draft's sections in wiki markup (headings, bullet lists, commands in monospace) or plain text. */
export function draftText(draft: Pick<TicketDraft, 'sections'>, format: 'wiki' | 'plain'): string {
  const lines: string[] = [];
  for (const section of draft.sections) {
    if (lines.length > 0) lines.push('');
    lines.push(format === 'wiki' ? `h3. ${escapeWiki(section.heading)}` : section.heading);
    for (const line of section.lines) {
      const command = line.startsWith('closeloop ');
      if (format === 'plain') lines.push(`- ${line}`);
      else lines.push(`* ${command ? monospace(line) : escapeWiki(line)}`);
    }
  }
  return clip(lines);
}

/**
 * A comment: the text, then the work id that lets a retry recognise it. Data Center has no
 * comment properties to rely on across versions, so the id is part of the comment's text.
 */
export function commentText(text: string, workId: string, format: 'wiki' | 'plain'): string {
  const marker = workMarker(workId);
  const body = format === 'wiki' ? `closeloop: ${escapeWiki(text)}` : `closeloop: ${text}`;
  const tail = format === 'wiki' ? `\n\n{color:#97a0af}${monospace(marker)}{color}` : `\n\n(${marker})`;
  return `${body.slice(0, MAX_TEXT - tail.length - 1)}${tail}`;
}

/** The text a comment carries to name the work item that wrote it. */
export const workMarker = (workId: string) => `closeloop work ${workId}`;
