import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { TtlCache } from '../common/ttl-cache';
import { RedisConnection } from './redis.module';

/** One kind of fact kept per person, e.g. who they are as pages see them, or how many notifications they have unread. */
export interface PerPersonFacts {
  /** Part of the Redis key: `{prefix}:person:{kind}:{userId}`. */
  kind: string;
  /** The longest a fact may be out of date if a change forgot to say so (every change that matters does). */
  ttlSeconds: number;
}

/**
 * Facts about a person that every signed-in page needs and that change rarely, kept where every web instance finds
 * them: in Redis when there is Redis (so a change made through one instance is forgotten for all by one DEL), in this
 * process on embedded defaults (where this process is the only one). Whoever changes a fact calls `forget` after the
 * change commits; the TTL only bounds a change that does not. A lookup that Redis cannot answer goes to the source.
 */
@Injectable()
export class PerPersonCache {
  private readonly logger = new Logger('PerPersonCache');
  private readonly local = new Map<string, TtlCache<unknown>>();

  constructor(private readonly redis: RedisConnection) {}

  async remember<T>(facts: PerPersonFacts, userId: number, load: () => Promise<T | null>): Promise<T | null> {
    const client = this.redis.client;
    if (!client) {
      const cache = this.localCache(facts);
      const key = String(userId);
      const hit = cache.get(key);
      if (hit !== undefined) return hit as T;
      const value = await load();
      if (value !== null) cache.set(key, value);
      return value;
    }
    const key = this.key(facts, userId);
    try {
      const cached = await client.get(key);
      if (cached !== null) return JSON.parse(cached) as T;
    } catch {
      return load();
    }
    const value = await load();
    if (value !== null) client.set(key, JSON.stringify(value), 'EX', facts.ttlSeconds).catch(() => undefined);
    return value;
  }

  /** Forgets these people's facts of this kind, on every instance. */
  async forget(facts: PerPersonFacts, userIds: readonly number[]): Promise<void> {
    if (!userIds.length) return;
    const client = this.redis.client;
    if (!client) {
      const cache = this.localCache(facts);
      for (const id of userIds) cache.delete(String(id));
      return;
    }
    try {
      for (let i = 0; i < userIds.length; i += 500) await client.del(...userIds.slice(i, i + 500).map((id) => this.key(facts, id)));
    } catch (err) {
      // Then they expire within their TTL.
      this.logger.warn(`Could not forget ${facts.kind} of ${userIds.length} people: ${err instanceof Error ? err.message : err}`);
    }
  }

  private key(facts: PerPersonFacts, userId: number): string {
    return this.redis.key('person', facts.kind, userId);
  }

  private localCache(facts: PerPersonFacts): TtlCache<unknown> {
    let cache = this.local.get(facts.kind);
    if (!cache) {
      cache = new TtlCache(facts.ttlSeconds * 1000, 10_000);
      this.local.set(facts.kind, cache);
    }
    return cache;
  }
}

/** Every module may keep facts per person (RedisModule, global too, provides the connection). */
@Global()
@Module({ providers: [PerPersonCache], exports: [PerPersonCache] })
export class PerPersonCacheModule {}
