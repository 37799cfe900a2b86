import { Batcher } from './batcher';

describe('Batcher', () => {
  it('runs calls made together as one batch, and calls made meanwhile as the next, one batch at a time', async () => {
    const batches: number[][] = [];
    let running = 0;
    let overlapped = false;
    const batcher = new Batcher<number, number>(async (items) => {
      overlapped ||= running > 0;
      running++;
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return items.map((n) => n * 10);
    });
    const first = [1, 2, 3].map((n) => batcher.submit(n));
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first batch is running now
    const second = [4, 5].map((n) => batcher.submit(n));
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(overlapped).toBe(false);
  });

  it('gives each caller its own error, and every caller the error of a batch that failed as a whole', async () => {
    const perItem = new Batcher<number, number>(async (items) => items.map((n) => (n < 0 ? new Error(`negative: ${n}`) : n)));
    const settled = await Promise.allSettled([perItem.submit(1), perItem.submit(-2), perItem.submit(3)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([1, 'negative: -2', 3]);

    let down = true;
    const failing = new Batcher<number, number>(async (items) => {
      if (down) throw new Error('database unavailable');
      return items;
    });
    const all = await Promise.allSettled([failing.submit(1), failing.submit(2)]);
    expect(all.map((s) => s.status === 'rejected' && (s.reason as Error).message)).toEqual(['database unavailable', 'database unavailable']);
    down = false; // and it goes on working once the database is back
    await expect(failing.submit(7)).resolves.toBe(7);
  });

  it('splits a crowd into batches of at most maxItems, and runs up to `concurrency` batches at once', async () => {
    const sizes: number[] = [];
    let running = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      async (items) => {
        most = Math.max(most, ++running);
        sizes.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return items;
      },
      { maxItems: 4, concurrency: 2 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(most).toBe(2);
  });
});
