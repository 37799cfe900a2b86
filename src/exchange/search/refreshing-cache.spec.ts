import { RefreshingCache } from './refreshing-cache';

describe('RefreshingCache', () => {
  let now = 0;
  const cache = <V>(options: Partial<ConstructorParameters<typeof RefreshingCache<V>>[0]> = {}) => new RefreshingCache<V>({ freshMs: 100, staleMs: 1000, maxWeight: 100, now: () => now, ...options });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  beforeEach(() => {
    now = 0;
  });

  it('serves a fresh value as it is, a stale one while one computation replaces it, and an expired one only after computing again', async () => {
    const c = cache<number>();
    let calls = 0;
    const compute = async () => ++calls;
    expect(await c.get('k', compute)).toBe(1);
    now = 50;
    expect(await c.get('k', compute)).toBe(1);
    expect(calls).toBe(1);
    now = 500;
    // Stale: the old value at once, and one refresh for the two asking.
    expect(await Promise.all([c.get('k', compute), c.get('k', compute)])).toEqual([1, 1]);
    await settle();
    expect(calls).toBe(2);
    expect(await c.get('k', compute)).toBe(2);
    now = 5000;
    expect(await c.get('k', compute)).toBe(3);
  });

  it('computes a missing value once for callers who ask at once, and keeps nothing when the computation fails', async () => {
    const c = cache<string>();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      calls++;
      await gate;
      return 'v';
    };
    const both = Promise.all([c.get('k', slow), c.get('k', slow)]);
    release();
    expect(await both).toEqual(['v', 'v']);
    expect(calls).toBe(1);
    await expect(c.get('bad', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await c.get('bad', async () => 'up')).toBe('up');
  });

  it('keeps a value of the current version however old, and refreshes one of another version', async () => {
    const c = cache<string>();
    expect(await c.get('k', async () => 'a', 'v1')).toBe('a');
    now = 100_000;
    expect(await c.get('k', async () => 'never', 'v1')).toBe('a');
    // Another version, and old: computed again before answering.
    expect(await c.get('k', async () => 'b', 'v2')).toBe('b');
    now = 100_500;
    // Another version, recent: the old value while the new one is computed.
    expect(await c.get('k', async () => 'c', 'v3')).toBe('b');
    await settle();
    expect(await c.get('k', async () => 'never', 'v3')).toBe('c');
  });

  it('lets the least recently used go once the weights pass the limit, and reports failed refreshes', async () => {
    const failures: string[] = [];
    const c = cache<number>({ maxWeight: 10, weigh: (v) => v, onRefreshError: (key) => failures.push(key) });
    await c.get('a', async () => 4);
    await c.get('b', async () => 4);
    await c.get('a', async () => 0);
    await c.get('c', async () => 4);
    expect(c.size).toBe(2);
    expect(await c.get('a', async () => 99)).toBe(4);
    expect(await c.get('b', async () => 5)).toBe(5);
    now = 500;
    expect(await c.get('b', () => Promise.reject(new Error('down')))).toBe(5);
    await settle();
    expect(failures).toEqual(['b']);
  });
});
