import { DAY_MS } from '../shared/clock';
import { truncate } from '../shared/text';
import { NOTICE_HEADINGS, NOTICE_KINDS, type Delivery, type Digest, type DigestLine, type NoticeKind } from './model';

/** Lines listed per section; the rest are counted ("… and 12 more"). */
export const MAX_LINES_PER_SECTION = 10;
/** Notices one digest carries at most; the rest wait for the next run's digest. */
export const MAX_NOTICES_PER_DIGEST = 200;

const SHORT: Record<NoticeKind, [string, string]> = {
  'sla.breached': ['overdue', 'overdue'],
  'sla.escalated': ['still overdue', 'still overdue'],
  'approval.waiting': ['approval waiting', 'approvals waiting'],
  'exception.expiring': ['exception ending', 'exceptions ending'],
  'rotation.failed': ['rotation failed', 'rotations failed'],
  'credential.active': ['live credential', 'live credentials'],
};

const day = (iso: string | undefined) => (iso ?? '').slice(0, 10);
const daysBetween = (from: string, to: Date) => Math.round((to.getTime() - Date.parse(from)) / DAY_MS);

/** One line about one delivery: the finding, what is wrong, who acts, the ticket. */
export function digestLine(delivery: Delivery, now: Date): DigestLine {
  const { notice, view, recipients } = delivery;
  const head = `${notice.subject}${view.severity ? ` [${view.severity}]` : ''} ${truncate(view.title, 120)}`;
  const facts: string[] = [];
  switch (notice.kind) {
    case 'sla.breached':
    case 'sla.escalated': {
      const late = view.dueAt ? daysBetween(view.dueAt, now) : undefined;
      facts.push(`due ${day(view.dueAt)}${late !== undefined && late > 0 ? ` (${late} days overdue)` : ''}`);
      if (view.owner) facts.push(`owner ${view.owner}`);
      break;
    }
    case 'approval.waiting':
      facts.push(notice.role ? `needs someone holding the ${notice.role} role` : 'needs an approver');
      if (notice.action === 'approval.timed_out') facts.push('no decision in time');
      facts.push(`asked ${day(notice.at)}`);
      break;
    case 'exception.expiring': {
      const left = view.until ? -daysBetween(view.until, now) : undefined;
      facts.push(`accepted until ${day(view.until)}${left !== undefined ? ` (in ${Math.max(0, left)} days)` : ''}`);
      if (view.owner) facts.push(`owner ${view.owner}`);
      if (notice.approver) facts.push(`approved by ${notice.approver}`);
      break;
    }
    case 'rotation.failed':
      facts.push(truncate(notice.reason, 200));
      if (view.owner) facts.push(`owner ${view.owner}`);
      break;
    case 'credential.active':
      if (view.asset) facts.push(`in ${truncate(view.asset, 80)}`);
      if (view.owner) facts.push(`owner ${view.owner}`);
      if (view.status) facts.push(`now ${view.status.replace(/_/g, ' ')}`);
      break;
  }
  if (view.ticket) facts.push(`ticket ${view.ticket.key}`);
  if (recipients.length > 0) facts.push(`for ${recipients.join(', ')}`);
  return {
    subject: notice.subject,
    text: `${head}: ${facts.join('; ')}`,
    ...(view.ticket?.url ? { url: view.ticket.url } : {}),
  };
}

/**
 * The one message a channel gets this run, from its queued deliveries (oldest first): a section
 * per kind of notice in a fixed order, at most MAX_LINES_PER_SECTION lines each, the rest counted.
 */
export function buildDigest(channel: string, deliveries: Delivery[], waiting: number, now: Date): Digest {
  const createdAt = now.toISOString();
  const sections = NOTICE_KINDS.flatMap((kind) => {
    const mine = deliveries.filter((d) => d.notice.kind === kind);
    if (mine.length === 0) return [];
    return [
      {
        kind,
        heading: NOTICE_HEADINGS[kind],
        total: mine.length,
        lines: mine.slice(0, MAX_LINES_PER_SECTION).map((d) => digestLine(d, now)),
      },
    ];
  });
  const summary = sections.map((s) => `${s.total} ${SHORT[s.kind][s.total === 1 ? 0 : 1]}`).join(', ');
  return {
    id: `${channel}-${createdAt}`,
    channel,
    createdAt,
    title: `closeloop: ${summary}`,
    sections,
    waiting,
    notices: deliveries.map((d) => ({ id: d.notice.id, at: d.notice.at })),
  };
}

/** The digest as plain text (email, and the fallback text of chat messages). */
export function digestText(digest: Digest, options: { repeat: boolean }): string {
  const lines: string[] = [];
  if (options.repeat) lines.push(repeatNote(digest), '');
  for (const section of digest.sections) {
    lines.push(`${section.heading} (${section.total})`);
    for (const line of section.lines) lines.push(`- ${line.text}${line.url ? ` <${line.url}>` : ''}`);
    const more = section.total - section.lines.length;
    if (more > 0) lines.push(`- … and ${more} more`);
    lines.push('');
  }
  if (digest.waiting > 0) lines.push(waitingNote(digest), '');
  lines.push(FOOTER);
  return lines.join('\n');
}

/** Said first when a digest is sent again because the first send's answer was lost. */
export const repeatNote = (digest: Digest) =>
  `Possible repeat: closeloop could not confirm that digest ${digest.id} arrived, so it is sent again.`;
export const waitingNote = (digest: Digest) =>
  `${digest.waiting} more notice(s) are queued and follow in the next digest.`;
export const FOOTER = 'Details: closeloop show <finding id>, or the finding’s ticket. Sent by closeloop.';
