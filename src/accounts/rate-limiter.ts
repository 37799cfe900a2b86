import { Clock } from '../common/clock';
import { Injectable } from '@nestjs/common';
import { TooManyRequests } from '../common/errors';
import { RedisConnection } from '../redis/redis.module';

/** DECR keeps the key's expiry; a key that has expired is left alone rather than made anew without one. */
const REFUND = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n > 0 then return redis.call('DECR', KEYS[1]) end return 0";

/**
 * Fixed-window counters for throttling sign-in, sign-up and password reset. In Redis when configured
 * (shared by every web instance); in this process on embedded defaults, where there is only one.
 */
@Injectable()
export class RateLimiter {
  private readonly local = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly clock: Clock,
  ) {}

  /** Counts one attempt under `key`; throws TooManyRequests once more than `limit` fall in one window. */
  async hit(key: string, limit: number, windowSeconds: number): Promise<void> {
    const { count, retryAfterSeconds } = this.redis.client ? await this.hitRedis(key, windowSeconds) : this.hitLocal(key, windowSeconds);
    if (count > limit) throw new TooManyRequests(retryAfterSeconds);
  }

  /**
   * Gives back one attempt counted under `key` in the current window (never below zero, never into a new window):
   * for budgets of failures, where every attempt is counted before it is checked (so attempts made at once cannot
   * all slip under the limit) and the ones that succeed are given back.
   */
  async refund(key: string): Promise<void> {
    if (this.redis.client) {
      await this.redis.client.eval(REFUND, 1, this.redis.key('rate', key));
      return;
    }
    const entry = this.local.get(key);
    if (entry && entry.resetAt > this.clock.now().getTime() && entry.count > 0) entry.count--;
  }

  private async hitRedis(key: string, windowSeconds: number) {
    const redisKey = this.redis.key('rate', key);
    const [[, count], , [, ttl]] = (await this.redis.client!.multi().incr(redisKey).expire(redisKey, windowSeconds, 'NX').ttl(redisKey).exec()) as [[null, number], unknown, [null, number]];
    return { count, retryAfterSeconds: Math.max(ttl, 1) };
  }

  private hitLocal(key: string, windowSeconds: number) {
    const now = this.clock.now().getTime();
    if (this.local.size > 10_000) for (const [k, v] of this.local) if (v.resetAt <= now) this.local.delete(k);
    let entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.local.set(key, entry);
    }
    entry.count++;
    return { count: entry.count, retryAfterSeconds: Math.ceil((entry.resetAt - now) / 1000) };
  }
}
