/**
 * A cache for answers that are expensive to compute and may be a little stale (search matches, facet counts):
 * an entry younger than `freshMs` is served as it is; one older, but younger than `staleMs`, is served too while
 * one computation replaces it in the background ("stale while revalidate"), so a popular search never waits for
 * the database after its first time; an older one, or none, is computed while the caller waits. Concurrent
 * callers of one key share one computation. Entries have a weight (a search's number of matches, say) and the
 * least recently used go first once the total passes `maxWeight`.
 */
export interface RefreshingCacheOptions<V> {
  freshMs: number;
  staleMs: number;
  maxWeight: number;
  weigh?: (value: V) => number;
  now?: () => number;
  /** Told about a background refresh that failed (the stale value stays until `staleMs`). */
  onRefreshError?: (key: string, error: unknown) => void;
}

interface Entry<V> {
  value: V;
  at: number;
  weight: number;
  version: string | undefined;
}

export class RefreshingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private weight = 0;
  private readonly now: () => number;
  private readonly weigh: (value: V) => number;

  constructor(private readonly options: RefreshingCacheOptions<V>) {
    this.now = options.now ?? Date.now;
    this.weigh = options.weigh ?? (() => 1);
  }

  /**
   * The value for `key`. With a `version` (what the value was computed from, such as the data's version), an entry of
   * that version is fresh however old it is, and one of another version is stale (served for up to `staleMs` while it
   * is computed again); without, freshness goes by age alone.
   */
  async get(key: string, compute: () => Promise<V>, version?: string): Promise<V> {
    const entry = this.entries.get(key);
    const age = entry ? this.now() - entry.at : Infinity;
    const current = version !== undefined && entry?.version === version;
    if (entry && (current || age < this.options.staleMs)) {
      // Most recently used last, so eviction takes the least recently used first.
      this.entries.delete(key);
      this.entries.set(key, entry);
      const fresh = version === undefined ? age < this.options.freshMs : current;
      if (!fresh && !this.inFlight.has(key)) {
        this.refresh(key, compute, version).catch((err: unknown) => this.options.onRefreshError?.(key, err));
      }
      return entry.value;
    }
    return this.inFlight.get(key) ?? this.refresh(key, compute, version);
  }

  /** How many entries are held (for tests and figures). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }

  private refresh(key: string, compute: () => Promise<V>, version: string | undefined): Promise<V> {
    const startedAt = this.now();
    const promise = compute().then(
      (value) => {
        this.inFlight.delete(key);
        this.set(key, value, startedAt, version);
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

  private set(key: string, value: V, at: number, version: string | undefined): void {
    const old = this.entries.get(key);
    if (old) {
      this.weight -= old.weight;
      this.entries.delete(key);
    }
    const weight = Math.max(1, this.weigh(value));
    this.entries.set(key, { value, at, weight, version });
    this.weight += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.weight <= this.options.maxWeight || oldest === key) break;
      this.entries.delete(oldest);
      this.weight -= entry.weight;
    }
  }
}
