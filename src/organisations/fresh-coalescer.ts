/**
 * Group reads for hot, costly queries (a dashboard many managers refresh, the bench's 10 connections on one
 * page): asks with the same key that arrive while its computation runs wait for the next one, which starts when
 * the running one ends and answers all of them. So under load one query serves many requests, and nobody gets a
 * result computed before they asked: a manager who reloads after a change always sees it (no cache, no TTL).
 */
export class FreshCoalescer<V> {
  private readonly entries = new Map<string, { current: Promise<V>; queued: Promise<V> | null }>();

  run(key: string, compute: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (!entry) {
      const fresh = { current: undefined as unknown as Promise<V>, queued: null as Promise<V> | null };
      this.entries.set(key, fresh);
      fresh.current = this.launch(key, fresh, compute);
      return fresh.current;
    }
    if (entry.queued) return entry.queued;
    const settled = entry.current.then(
      () => undefined,
      () => undefined,
    );
    entry.queued = settled.then(() => {
      entry.queued = null;
      entry.current = this.launch(key, entry, compute);
      return entry.current;
    });
    return entry.queued;
  }

  /** Keys with a computation running or waiting (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private launch(key: string, entry: { current: Promise<V>; queued: Promise<V> | null }, compute: () => Promise<V>): Promise<V> {
    let promise: Promise<V>;
    try {
      promise = compute();
    } catch (err) {
      promise = Promise.reject(err);
    }
    const done = () => {
      if (entry.current === promise && !entry.queued) this.entries.delete(key);
    };
    promise.then(done, done);
    return promise;
  }
}
