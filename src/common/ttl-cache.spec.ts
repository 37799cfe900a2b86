import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('keeps values for their time, then computes again', async () => {
    let now = 0;
    const cache = new TtlCache<number>(1000, 10, () => now);
    let computed = 0;
    const compute = async () => ++computed;
    expect(await cache.remember('a', compute)).toBe(1);
    now = 999;
    expect(await cache.remember('a', compute)).toBe(1);
    now = 1000;
    expect(await cache.remember('a', compute)).toBe(2);
  });

  it('shares one computation between concurrent misses, and does not keep failures', async () => {
    const cache = new TtlCache<string>(1000, 10);
    let calls = 0;
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve(`v${++calls}`), 10));
    expect(await Promise.all([cache.remember('k', slow), cache.remember('k', slow), cache.remember('k', slow)])).toEqual(['v1', 'v1', 'v1']);
    await expect(cache.remember('bad', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.remember('bad', async () => 'fine')).toBe('fine');
  });

  it('holds at most maxEntries, dropping the oldest, and clears', () => {
    const cache = new TtlCache<number>(1000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    cache.clear();
    expect(cache.get('b')).toBeUndefined();
  });

  it('answers several ids from what it keeps and loads the others together, keeping only what exists', async () => {
    const cache = new TtlCache<string>(1000, 10);
    const calls: number[][] = [];
    const load = async (ids: number[]) => {
      calls.push(ids);
      return new Map(ids.filter((id) => id !== 3).map((id) => [id, `course ${id}`]));
    };
    expect([...(await cache.rememberMany([1, 2, 3], load))]).toEqual([[1, 'course 1'], [2, 'course 2']]);
    expect([...(await cache.rememberMany([2, 3, 4, 2], load))].sort()).toEqual([[2, 'course 2'], [4, 'course 4']]);
    expect(calls).toEqual([[1, 2, 3], [3, 4]]);
  });
});
