import { FOOTER, repeatNote, waitingNote } from '@core/notify/digest';
import type { Digest, SendOptions } from '@core/notify/model';
import { WebhookSender } from './webhook-post';

/** Teams takes messages of about 28 KB; stay below it. */
export const TEAMS_MAX_BYTES = 27_000;
export const ADAPTIVE_CARD_VERSION = '1.4';

type Element = Record<string, unknown>;
const textBlock = (text: string, extra: Element = {}): Element => ({ type: 'TextBlock', text, wrap: true, ...extra });
const safeUrl = (url: string | undefined) => (url && /^https?:\/\/\S+$/.test(url) ? url : undefined);

/** One digest line: plain text runs (no Markdown to misread in titles), the ticket as a link. */
function lineBlock(text: string, url: string | undefined): Element {
  const link = safeUrl(url);
  return {
    type: 'RichTextBlock',
    spacing: 'Small',
    inlines: [
      { type: 'TextRun', text: `• ${text}` },
      ...(link
        ? [{ type: 'TextRun', text: '  open ticket', selectAction: { type: 'Action.OpenUrl', url: link } }]
        : []),
    ],
  };
}

function card(digest: Digest, options: SendOptions): Element {
  const body: Element[] = [textBlock(digest.title, { size: 'Large', weight: 'Bolder' })];
  if (options.repeat) body.push(textBlock(repeatNote(digest), { color: 'Warning' }));
  for (const section of digest.sections) {
    body.push(
      textBlock(`${section.heading} (${section.total})`, { weight: 'Bolder', size: 'Medium', spacing: 'Medium' }),
    );
    for (const line of section.lines) body.push(lineBlock(line.text, line.url));
    const more = section.total - section.lines.length;
    if (more > 0) body.push(textBlock(`… and ${more} more`, { isSubtle: true, spacing: 'Small' }));
  }
  if (digest.waiting > 0) body.push(textBlock(waitingNote(digest), { isSubtle: true }));
  body.push(textBlock(FOOTER, { isSubtle: true, size: 'Small' }));
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: ADAPTIVE_CARD_VERSION,
    body,
    msteams: { width: 'Full' },
  };
}

/**
 * The digest as the message a Teams Workflows webhook ("When a Teams webhook request is
 * received", which replaced the retired Office 365 connectors) posts: one Adaptive Card
 * attachment. Lines are dropped from the longest sections (and counted) until it fits.
 */
export function teamsMessage(digest: Digest, options: SendOptions): Element {
  let fitted = digest;
  const message = (d: Digest) => ({
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card(d, options) },
    ],
  });
  while (Buffer.byteLength(JSON.stringify(message(fitted))) > TEAMS_MAX_BYTES) {
    const longest = [...fitted.sections].sort((a, b) => b.lines.length - a.lines.length)[0];
    if (!longest || longest.lines.length === 0) break;
    fitted = {
      ...fitted,
      sections: fitted.sections.map((s) => (s === longest ? { ...s, lines: s.lines.slice(0, -1) } : s)),
    };
  }
  return message(fitted);
}

/** A Teams Workflows webhook: it answers 202 Accepted (200 from some flows) when it takes the message. */
export class TeamsSender extends WebhookSender {
  readonly kind = 'teams' as const;
  protected readonly service = 'Teams';
  protected message = teamsMessage;
  protected took = (status: number) => status === 202 || status === 200;
}
