/**
 * A small in-memory cache whose entries expire after a fixed time, holding at most `maxEntries`
 * (the oldest go first). For data that many requests read and that may be a few seconds stale.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  /** Gets the value, or computes it once and keeps it. Concurrent misses share one computation. */
  async remember(key: string, compute: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = compute().then(
      (value) => {
        this.inFlight.delete(key);
        this.set(key, value);
        return value;
      },
      (err: unknown) => {
        this.inFlight.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, promise);
    return promise;
  }

  /**
   * The values of several ids: those kept are answered from here, the others loaded together by one call of
   * `loadMissing` (which returns what exists; an id it leaves out is not kept) and kept.
   */
  async rememberMany(ids: readonly number[], loadMissing: (ids: number[]) => Promise<Map<number, V>>): Promise<Map<number, V>> {
    const found = new Map<number, V>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const hit = this.get(String(id));
      if (hit === undefined) missing.push(id);
      else found.set(id, hit);
    }
    if (missing.length) {
      for (const [id, value] of await loadMissing(missing)) {
        this.set(String(id), value);
        found.set(id, value);
      }
    }
    return found;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private readonly inFlight = new Map<string, Promise<V>>();
}
