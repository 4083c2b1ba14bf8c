import { TicketWorkSchema, type TicketWork } from '../tickets/model';
import { indexKeys, keys, type Item } from './table';

/**
 * The ticket outbox on the table. A write's ticket work is stored together, as one item
 * (`type: 'ticket_works'`, keyed `TICKETWORK#<seq of its first work>`, `works: [...]`), not one item
 * per work: a lifecycle start that owes its ticket a create and three comments costs one item, not
 * four, at its write and again when the work is done. Each work keeps its own seq, attempts, batch
 * and state, so the sync works exactly as before; the item is in the outbox index while any of its
 * works is pending. Items of one work (`type: 'ticket_work'`, written by earlier versions) read and
 * complete the same way.
 */

export const WORK_PAGE_TYPE = 'ticket_works';
/** Works one item holds at most (a ticket text is at most 2,000 characters; an item 400 KB). */
const MAX_PAGE_WORKS = 100;

/** A pending work as stored inside its page. */
const stored = ({ page: _page, lastError, ...work }: TicketWork, state: 'pending' | 'done', doneAt?: string) => ({
  ...work,
  ...(state === 'pending' && lastError !== undefined ? { lastError } : {}),
  state,
  ...(doneAt ? { doneAt } : {}),
});

/** A write's ticket work as outbox items (one, unless the write owes more than a page holds). */
export function toWorkPages(outbox: TicketWork[]): Item[] {
  const pages: Item[] = [];
  for (let i = 0; i < outbox.length; i += MAX_PAGE_WORKS) {
    const works = outbox.slice(i, i + MAX_PAGE_WORKS);
    const first = works[0]!;
    pages.push({
      ...keys.ticketWork(first.findingId, first.seq),
      type: WORK_PAGE_TYPE,
      findingId: first.findingId,
      seq: first.seq,
      state: 'pending',
      works: works.map((w) => stored(w, 'pending')),
      ...indexKeys.outbox(first),
    });
  }
  return pages;
}

/** An outbox item's pending works, each with where it is kept (`page`); an item of one work as it was stored. */
export function pendingWorksOf(item: Item): TicketWork[] {
  if (item.type !== WORK_PAGE_TYPE) return [TicketWorkSchema.parse(item)];
  const works = (item.works ?? []) as Item[];
  return works.flatMap((w, index) =>
    w.state === 'done'
      ? []
      : [TicketWorkSchema.parse({ ...w, page: { seq: Number(item.seq), index, of: works.length } })],
  );
}

/**
 * A page whose every work is done in one call, as it is kept: out of the outbox, each work with
 * what was sent (attempts, batch) and when it was done. `works` must be the page's works, in order.
 */
export function donePage(works: TicketWork[], at: string): Item {
  const first = works[0]!;
  return {
    ...keys.ticketWork(first.findingId, first.page!.seq),
    type: WORK_PAGE_TYPE,
    findingId: first.findingId,
    seq: first.page!.seq,
    state: 'done',
    doneAt: at,
    works: works.map((w) => stored(w, 'done', at)),
  };
}
