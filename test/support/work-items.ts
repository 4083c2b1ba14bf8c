import { WORK_PAGE_TYPE } from '@core/store/work-pages';

type Item = Record<string, unknown>;

/**
 * The ticket works a table holds, one entry per work, whether kept in its write's page
 * (`ticket_works`) or alone (`ticket_work`, earlier versions); `inOutbox` says whether its item is
 * still listed in the outbox index.
 */
export function storedWorks(items: Item[]): Array<Item & { inOutbox: boolean }> {
  return items.flatMap((item) => {
    const inOutbox = item.gsi4pk !== undefined;
    if (item.type === WORK_PAGE_TYPE)
      return ((item.works as Item[]) ?? []).map((w) => ({ ...w, findingId: item.findingId, inOutbox }));
    return item.type === 'ticket_work' ? [{ ...item, inOutbox }] : [];
  });
}
