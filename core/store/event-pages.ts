import { AuditEventSchema, type AuditEvent } from '../audit/chain';
import { CloseloopError } from '../shared/errors';
import { indexKeys, type Item } from './table';

/**
 * Audit events on the table. A write's events are stored together, as one page item
 * (`type: 'events'`, keyed `EVENT#<seq of its first event>`), not one item per event: a write that
 * records five events costs one item, not five. Every event keeps its own sequence number, hash and
 * link, so the chain reads and verifies exactly as before; a page only groups what one write
 * committed. Items written one event at a time (`type: 'event'`, by earlier versions and by the
 * managed-secret chains) read the same way.
 */

/** Events one page holds at most. A read of events from `seq` starts this many keys earlier. */
export const MAX_PAGE_EVENTS = 100;
/**
 * A page's events lie within this span of its first, on its first's day: a page is listed under its
 * first event's time, so a read of a period's events starts this much earlier and keeps the events
 * in the period (core/store/dynamo-report-source.ts).
 */
export const PAGE_SPAN_MS = 60_000;
/** A page's events at most (DynamoDB items hold 400 KB; a write's events are far smaller). */
const MAX_PAGE_BYTES = 300 * 1024;

export const EVENT_PAGE_TYPE = 'events';

const withinSpan = (first: string, at: string) =>
  first.slice(0, 10) === at.slice(0, 10) && Date.parse(at) - Date.parse(first) <= PAGE_SPAN_MS;

/**
 * A write's events as page items, in order: one page, unless its events span more than
 * PAGE_SPAN_MS or two days (each page is listed under its first event's time in the events-by-day
 * index) or exceed a page.
 */
export function toEventPages(events: AuditEvent[], key: (seq: number) => { pk: string; sk: string }): Item[] {
  const groups: AuditEvent[][] = [];
  let group: AuditEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event).length;
    const first = group[0];
    if (
      first &&
      (!withinSpan(first.at, event.at) || group.length >= MAX_PAGE_EVENTS || bytes + size > MAX_PAGE_BYTES)
    ) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(event);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups.map((page) => {
    const first = page[0]!;
    return {
      ...key(first.seq),
      type: EVENT_PAGE_TYPE,
      findingId: first.findingId,
      first: first.seq,
      last: page[page.length - 1]!.seq,
      at: first.at,
      actors: [...new Set(page.map((e) => e.actor))],
      events: page,
      ...indexKeys.event(first),
    };
  });
}

/** Is this item a page of events (rather than one event)? */
export const isEventPage = (item: Item) => item.type === EVENT_PAGE_TYPE;

/**
 * The events of event items (pages and single events), in the items' order: a chain's items come in
 * sort-key order, which is sequence order, and an index's in its own. A page that does not hold a
 * list of events is reported, not skipped: a reader must never see a chain shorter than it is.
 */
export function eventsOf(items: Item[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const item of items) {
    if (!isEventPage(item)) {
      events.push(AuditEventSchema.parse(item));
      continue;
    }
    if (!Array.isArray(item.events))
      throw new CloseloopError(`the event page ${String(item.pk)} ${String(item.sk)} holds no list of events`);
    for (const event of item.events) events.push(AuditEventSchema.parse(event));
  }
  return events;
}

/** The first sort-key sequence number to read for the events from `from` on: the page holding `from` may start before it. */
export const pageSearchStart = (from: number) => Math.max(1, from - MAX_PAGE_EVENTS + 1);

/**
 * The events a finding's head carries itself: those of the write that created it, when they are
 * small (most creations record one event). Its transaction then guards and writes one item, not
 * two, and the page is written right after it commits, by BatchWriteItem: on DynamoDB Local a
 * transaction's items are written one at a time under the table's lock and a batch's side by side,
 * and on AWS a transactional write costs twice a batch's. The events stay in the head until the
 * next write of the finding, which makes sure their page exists first (it reads the page's key and
 * writes the page if it is missing; a page's content never changes, so any writer may write it) and
 * only then replaces the head: whenever a head is read, the pages of every earlier write exist, so
 * a chain read head first and then pages is whole.
 */
export const INLINE_EVENTS = 'inlineEvents';
/**
 * At most this many characters of events ride in a head: a creation's one or two events. A finding
 * item is copied whole into every index it is in (up to four project all of it), so a larger write
 * (an ingest's creation held with its lifecycle's start: five to eight events) costs more copied
 * into them than its page costs in the transaction, on DynamoDB Local (measured: `closeloop ingest`
 * of 1,000 findings with their starts, 0.5 s slower with them inline) and on AWS alike.
 */
export const MAX_INLINE_EVENT_CHARS = 2 * 1024;

/** The events a head carries (none when its write's page was written in the same transaction). */
export function inlineEventsOf(head: Item | undefined): AuditEvent[] {
  const events = head?.[INLINE_EVENTS];
  if (events === undefined) return [];
  if (!Array.isArray(events))
    throw new CloseloopError(
      `the finding item ${String(head?.pk)} holds ${INLINE_EVENTS} that is not a list of events`,
    );
  return events.map((event) => AuditEventSchema.parse(event));
}

/** A chain's events from its pages and its head's own, in sequence order, each once. */
export function withInline(paged: AuditEvent[], inline: AuditEvent[]): AuditEvent[] {
  if (inline.length === 0) return paged;
  const seen = new Set(paged.map((e) => e.seq));
  return [...paged, ...inline.filter((e) => !seen.has(e.seq))].sort((a, b) => a.seq - b.seq);
}
