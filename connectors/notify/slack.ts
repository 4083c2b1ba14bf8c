import type { ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import { FOOTER, repeatNote, waitingNote } from '@core/notify/digest';
import type { Digest, SendOptions } from '@core/notify/model';
import { truncate } from '@core/shared/text';
import { WebhookSender } from './webhook-post';

/** Block Kit limits: a header's text, a section's text, blocks per message. */
export const SLACK_LIMITS = { header: 150, section: 3000, blocks: 50 } as const;

/** Slack's mrkdwn needs &, < and > escaped; everything else is shown as written. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A link only when the URL cannot break out of `<url|label>`. */
const safeUrl = (url: string | undefined) => (url && /^https?:\/\/[^\s<>|]+$/.test(url) ? url : undefined);

/** The digest as a Slack incoming-webhook message: `text` (the notification) and Block Kit blocks. */
export function slackMessage(digest: Digest, options: SendOptions): { text: string; blocks: KnownBlock[] } {
  const header: HeaderBlock = {
    type: 'header',
    text: { type: 'plain_text', text: truncate(digest.title, SLACK_LIMITS.header) },
  };
  const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
  const blocks: KnownBlock[] = [header];
  if (options.repeat) blocks.push(context(`:warning: ${escape(repeatNote(digest))}`));
  for (const section of digest.sections) {
    const lines = section.lines.map((line) => {
      const url = safeUrl(line.url);
      return `• ${escape(line.text)}${url ? ` <${url}|open ticket>` : ''}`;
    });
    const more = section.total - section.lines.length;
    if (more > 0) lines.push(`• … and ${more} more`);
    let text = `*${escape(section.heading)}* (${section.total})\n${lines.join('\n')}`;
    if (text.length > SLACK_LIMITS.section) text = `${text.slice(0, SLACK_LIMITS.section - 2)}\n…`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } } satisfies SectionBlock);
  }
  if (digest.waiting > 0) blocks.push(context(escape(waitingNote(digest))));
  blocks.push(context(escape(FOOTER)));
  return { text: `${options.repeat ? '(possible repeat) ' : ''}${digest.title}`, blocks };
}

/** A Slack incoming webhook (https://api.slack.com/messaging/webhooks): 200 `ok` means posted. */
export class SlackSender extends WebhookSender {
  readonly kind = 'slack' as const;
  protected readonly service = 'Slack';
  protected message = slackMessage;
  protected took = (status: number, data: unknown) =>
    status === 200 && (typeof data !== 'string' || data.trim() === 'ok');
}
