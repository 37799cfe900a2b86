import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { RedisConnection } from '../redis/redis.module';
import { SessionRecord } from './entities/session.entity';

export interface SessionData {
  userId: number;
  expiresAt: Date;
}

/** Cookie values are random; stores keep only their SHA-256, so a leaked store does not leak sessions. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = () => randomBytes(32).toString('base64url');

/**
 * Server-side sessions shared by every web instance: in Redis when configured, otherwise in the database.
 * Sessions slide: each use within the last half of their life extends them by the full TTL (SESSION_TTL_HOURS),
 * but never past SESSION_MAX_HOURS after sign-in: a stolen session cookie that is kept in use still dies.
 */
export abstract class SessionStore {
  abstract create(userId: number, userAgent: string | null): Promise<string>;
  abstract find(token: string): Promise<SessionData | null>;
  abstract destroy(token: string): Promise<void>;
  abstract destroyAllForUser(userId: number, exceptToken?: string): Promise<void>;
}

@Injectable()
export class DatabaseSessionStore extends SessionStore {
  constructor(
    @InjectRepository(SessionRecord) private readonly sessions: Repository<SessionRecord>,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    super();
  }

  private get ttlMs() {
    return this.config.session.ttlHours * 3600_000;
  }

  /** The expiry of a session created at `createdAtMs` after a use at `nowMs`: the full TTL, capped by the absolute lifetime. */
  private expiryAfterUse(createdAtMs: number, nowMs: number): Date {
    return new Date(Math.min(nowMs + this.ttlMs, createdAtMs + this.config.session.maxHours * 3600_000));
  }

  async create(userId: number, userAgent: string | null): Promise<string> {
    const token = newToken();
    const now = new Date();
    await this.sessions.insert({ id: hashToken(token), userId, createdAt: now, expiresAt: this.expiryAfterUse(now.getTime(), now.getTime()), userAgent: userAgent?.slice(0, 255) ?? null });
    // Expired rows go on sign-in, so the table does not grow without bound and no extra job is needed.
    await this.sessions.delete({ expiresAt: LessThan(now) });
    return token;
  }

  async find(token: string): Promise<SessionData | null> {
    const id = hashToken(token);
    const row = await this.sessions.findOne({ where: { id }, select: { userId: true, createdAt: true, expiresAt: true } });
    const now = Date.now();
    if (!row || row.expiresAt.getTime() <= now) return null;
    const renewed = this.expiryAfterUse(row.createdAt.getTime(), now);
    // Past its absolute lifetime (a row from before SESSION_MAX_HOURS was lowered, say): over, whatever expires_at says.
    if (renewed.getTime() <= now) return null;
    if (row.expiresAt.getTime() - now < this.ttlMs / 2 && renewed.getTime() > row.expiresAt.getTime()) {
      row.expiresAt = renewed;
      await this.sessions.update({ id }, { expiresAt: row.expiresAt });
    }
    return { userId: row.userId, expiresAt: row.expiresAt };
  }

  async destroy(token: string): Promise<void> {
    await this.sessions.delete({ id: hashToken(token) });
  }

  async destroyAllForUser(userId: number, exceptToken?: string): Promise<void> {
    const query = this.sessions.createQueryBuilder().delete().where('user_id = :userId', { userId });
    if (exceptToken) query.andWhere('id <> :keep', { keep: hashToken(exceptToken) });
    await query.execute();
  }
}

@Injectable()
export class RedisSessionStore extends SessionStore {
  constructor(
    private readonly redis: RedisConnection,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    super();
  }

  private get ttlSeconds() {
    return this.config.session.ttlHours * 3600;
  }

  private get maxSeconds() {
    return this.config.session.maxHours * 3600;
  }

  /** Seconds a session created at `createdAtMs` may live after a use now: the full TTL, capped by the absolute lifetime. */
  private secondsAfterUse(createdAtMs: number): number {
    return Math.min(this.ttlSeconds, Math.floor((createdAtMs + this.maxSeconds * 1000 - Date.now()) / 1000));
  }

  private sessionKey(id: string) {
    return this.redis.key('session', id);
  }

  private userKey(userId: number) {
    return this.redis.key('user-sessions', userId);
  }

  async create(userId: number, userAgent: string | null): Promise<string> {
    const token = newToken();
    const id = hashToken(token);
    const value = JSON.stringify({ userId, createdAt: Date.now(), userAgent: userAgent?.slice(0, 255) ?? null });
    const seconds = Math.min(this.ttlSeconds, this.maxSeconds);
    await this.client
      .multi()
      .set(this.sessionKey(id), value, 'EX', seconds)
      .sadd(this.userKey(userId), id)
      // The user's set outlives each of their sessions (only ever lengthened), so "sign out everywhere" finds them all.
      .expire(this.userKey(userId), seconds, 'GT')
      .expire(this.userKey(userId), seconds, 'NX')
      .exec();
    return token;
  }

  async find(token: string): Promise<SessionData | null> {
    const key = this.sessionKey(hashToken(token));
    const [[, value], [, ttl]] = (await this.client.multi().get(key).ttl(key).exec()) as [[null, string | null], [null, number]];
    if (!value || ttl <= 0) return null;
    const { userId, createdAt } = JSON.parse(value) as { userId: number; createdAt?: number };
    const allowed = this.secondsAfterUse(typeof createdAt === 'number' ? createdAt : Date.now());
    if (allowed <= 0) {
      // Past its absolute lifetime: over, whatever its TTL says.
      await this.client.multi().del(key).srem(this.userKey(userId), hashToken(token)).exec();
      return null;
    }
    let remaining = ttl;
    if (ttl < this.ttlSeconds / 2 && allowed > ttl) {
      remaining = allowed;
      await this.client.multi().expire(key, remaining).expire(this.userKey(userId), remaining, 'GT').exec();
    }
    return { userId, expiresAt: new Date(Date.now() + remaining * 1000) };
  }

  async destroy(token: string): Promise<void> {
    const id = hashToken(token);
    const value = await this.client.get(this.sessionKey(id));
    const multi = this.client.multi().del(this.sessionKey(id));
    if (value) multi.srem(this.userKey((JSON.parse(value) as { userId: number }).userId), id);
    await multi.exec();
  }

  async destroyAllForUser(userId: number, exceptToken?: string): Promise<void> {
    const keep = exceptToken ? hashToken(exceptToken) : null;
    const ids = (await this.client.smembers(this.userKey(userId))).filter((id) => id !== keep);
    if (!ids.length) return;
    await this.client
      .multi()
      .del(...ids.map((id) => this.sessionKey(id)))
      .srem(this.userKey(userId), ...ids)
      .exec();
  }

  private get client() {
    return this.redis.client!;
  }
}
