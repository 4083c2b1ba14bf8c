import { chainEvents, verifyChain, type AuditEvent } from '@core/audit/chain';
import { MAX_PAGE_EVENTS, eventsOf, pageSearchStart, toEventPages } from '@core/store/event-pages';
import { keys } from '@core/store/table';

const ID = 'NHI-00000000000000AB';
const key = (seq: number) => keys.findingEvent(ID, seq);
const chain = (ats: string[], data?: Record<string, unknown>): AuditEvent[] =>
  chainEvents(
    ID,
    { count: 0, lastHash: '0'.repeat(64) },
    ats.map((at, i) => ({
      at,
      actor: i % 2 ? 'alice@example.com' : 'closeloop:lifecycle',
      action: 'finding.updated',
      ...(data ? { data } : {}),
    })),
  );
const T = '2026-11-01T00:00:00.000Z';

describe('audit event pages (one item per write)', () => {
  it("stores a write's events as one page keyed by its first event, and reads them back as the same chain", () => {
    const events = chain([T, T, T, T, T]);
    const pages = toEventPages(events, key);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({
      ...key(1),
      type: 'events',
      first: 1,
      last: 5,
      actors: ['closeloop:lifecycle', 'alice@example.com'],
    });
    const read = eventsOf(JSON.parse(JSON.stringify(pages)));
    expect(read).toEqual(events);
    expect(verifyChain(read, { count: 5, lastHash: events[4]!.hash })).toEqual({ ok: true, events: 5 });
  });

  it('keeps events a minute apart on one page, and splits beyond a minute: a page is listed under its first time', () => {
    const pages = toEventPages(
      chain([T, '2026-11-01T00:00:59.999Z', '2026-11-01T00:01:00.000Z', '2026-11-01T00:02:00.001Z']),
      key,
    );
    expect(pages.map((p) => [p.first, p.last, p.at])).toEqual([
      [1, 3, T],
      [4, 4, '2026-11-01T00:02:00.001Z'],
    ]);
  });

  it('splits where the events of a write fall on two days: each page is listed under its own day', () => {
    const later = '2026-11-02T00:00:00.000Z';
    const lateOnDay1 = '2026-11-01T23:59:59.990Z';
    const pages = toEventPages(chain([lateOnDay1, lateOnDay1, later]), key);
    expect(pages.map((p) => [p.sk, p.first, p.last, p.at])).toEqual([
      [key(1).sk, 1, 2, lateOnDay1],
      [key(3).sk, 3, 3, later],
    ]);
    expect(pages.map((p) => String(p.gsi4pk).slice(0, 19))).toEqual(['EVENTDAY#2026-11-01', 'EVENTDAY#2026-11-02']);
  });

  it(`splits a write of more than ${MAX_PAGE_EVENTS} events, or of events too large for one item`, () => {
    const many = toEventPages(chain(Array.from({ length: MAX_PAGE_EVENTS + 1 }, () => T)), key);
    expect(many.map((p) => [p.first, p.last])).toEqual([
      [1, MAX_PAGE_EVENTS],
      [MAX_PAGE_EVENTS + 1, MAX_PAGE_EVENTS + 1],
    ]);
    const large = toEventPages(chain([T, T, T, T], { note: 'x'.repeat(100 * 1024) }), key);
    expect(large.length).toBeGreaterThan(1);
    for (const page of large) expect(JSON.stringify(page).length).toBeLessThan(400 * 1024);
    expect(eventsOf(large).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('reads items of one event (earlier versions) and pages side by side, in order', () => {
    const events = chain([T, T, T, T]);
    const single = { ...key(1), type: 'event', ...events[0]!, gsi4pk: 'x', gsi4sk: 'y' };
    const read = eventsOf([single, ...toEventPages(events.slice(1), key)]);
    expect(read).toEqual(events);
  });

  it('refuses a page that holds no list of events, naming it, rather than reading a shorter chain', () => {
    const [page] = toEventPages(chain([T, T]), key);
    expect(() => eventsOf([{ ...page!, events: 'gone' }])).toThrow(
      `the event page FINDING#${ID} ${key(1).sk} holds no list of events`,
    );
  });

  it('starts a read of events from seq n early enough to find the page that holds n', () => {
    expect(pageSearchStart(1)).toBe(1);
    expect(pageSearchStart(50)).toBe(1);
    expect(pageSearchStart(250)).toBe(250 - MAX_PAGE_EVENTS + 1);
  });
});
