import { inParallel } from '@core/shared/concurrency';

describe('inParallel', () => {
  it("keeps the items' order whatever finishes first, and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 15, 2, 25];
    const out = await inParallel(3, delays, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return ms * 2;
    });
    expect(out).toEqual(delays.map((d) => d * 2));
    expect(most).toBe(3);
  });

  it('handles nothing to do, and rejects when an item fails', async () => {
    expect(await inParallel(4, [], async () => 1)).toEqual([]);
    await expect(
      inParallel(2, [1, 2, 3], async (n) => (n === 2 ? Promise.reject(new Error('partition 2 unavailable')) : n)),
    ).rejects.toThrow('partition 2 unavailable');
  });
});
