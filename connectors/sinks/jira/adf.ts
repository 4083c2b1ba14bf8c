/**
 * Atlassian Document Format (ADF) for descriptions and comments: the small subset closeloop
 * writes (headings, paragraphs, bullet lists, inline code), always valid against Atlassian's
 * ADF JSON schema (the tests check every document the sink sends).
 */
export type AdfNode = Record<string, unknown>;
export interface AdfDoc {
  version: 1;
  type: 'doc';
  content: AdfNode[];
}

/** Jira stores at most 32,767 characters in a rich-text field; stay well below it. */
export const MAX_ADF_TEXT = 30_000;

const text = (value: string, marks?: Array<{ type: string }>): AdfNode => ({
  type: 'text',
  text: value,
  ...(marks ? { marks } : {}),
});

/** A paragraph; empty text (invalid in ADF) becomes a single space. */
export function paragraph(value: string): AdfNode {
  return { type: 'paragraph', content: [text(value === '' ? ' ' : value)] };
}

/** Lines that start with `closeloop ` are commands: shown as inline code. */
function line(value: string): AdfNode {
  if (value.startsWith('closeloop ')) return { type: 'paragraph', content: [text(value, [{ type: 'code' }])] };
  return paragraph(value);
}

/** A document of sections (heading + bullet list), trimmed to Jira's size limit. */
export function sectionsDoc(sections: Array<{ heading: string; lines: string[] }>): AdfDoc {
  let budget = MAX_ADF_TEXT;
  const content: AdfNode[] = [];
  for (const section of sections) {
    if (budget <= 0) break;
    content.push({ type: 'heading', attrs: { level: 3 }, content: [text(section.heading)] });
    budget -= section.heading.length;
    const items: AdfNode[] = [];
    for (const value of section.lines) {
      if (budget <= 0) break;
      const clipped = value.length > budget ? `${value.slice(0, Math.max(1, budget - 1))}…` : value;
      budget -= clipped.length;
      items.push({ type: 'listItem', content: [line(clipped)] });
    }
    if (items.length > 0) content.push({ type: 'bulletList', content: items });
  }
  return { version: 1, type: 'doc', content };
}

/** A comment document: one paragraph per line of text. */
export function textDoc(value: string): AdfDoc {
  const lines = value.slice(0, MAX_ADF_TEXT).split('\n');
  return { version: 1, type: 'doc', content: lines.map(paragraph) };
}

/** The plain text of an ADF document (for inbound comments and tests). */
export function adfText(node: unknown): string {
  if (!node || typeof node !== 'object') return '';
  const n = node as { type?: string; text?: string; content?: unknown[] };
  if (n.type === 'text') return n.text ?? '';
  const inner = (n.content ?? []).map(adfText);
  return n.type === 'doc' ? inner.join('\n') : inner.join(n.type === 'bulletList' ? '\n' : '');
}
