import { Clock } from '../common/clock';
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
  /** The user's live sessions (when each began and ends, and the browser), for "Download my data". */
  abstract listForUser(userId: number): Promise<SessionSummary[]>;
}

export interface SessionSummary {
  createdAt: Date;
  expiresAt: Date;
  userAgent: string | null;
}

@Injectable()
export class DatabaseSessionStore extends SessionStore {
  constructor(
    private readonly clock: Clock,
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
    const now = this.clock.now();
    await this.sessions.insert({ id: hashToken(token), userId, createdAt: now, expiresAt: this.expiryAfterUse(now.getTime(), now.getTime()), userAgent: userAgent?.slice(0, 255) ?? null });
    // Expired rows go on sign-in, so the table does not grow without bound and no extra job is needed.
    await this.sessions.delete({ expiresAt: LessThan(now) });
    return token;
  }

  async find(token: string): Promise<SessionData | null> {
    const id = hashToken(token);
    const row = await this.sessions.findOne({ where: { id }, select: { userId: true, createdAt: true, expiresAt: true } });
    const now = this.clock.now().getTime();
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

  async listForUser(userId: number): Promise<SessionSummary[]> {
    const rows = await this.sessions.find({ where: { userId }, select: { createdAt: true, expiresAt: true, userAgent: true }, order: { createdAt: 'ASC' } });
    const now = this.clock.now().getTime();
    return rows.filter((r) => r.expiresAt.getTime() > now).map((r) => ({ createdAt: r.createdAt, expiresAt: r.expiresAt, userAgent: r.userAgent }));
  }
}

/** What Redis keeps of a session (JSON under its hashed id). */
interface StoredSession {
  userId: number;
  createdAt: number;
  /** On the academy's clock; absent on sessions written by earlier releases. */
  expiresAt?: number;
  userAgent: string | null;
}

@Injectable()
export class RedisSessionStore extends SessionStore {
  constructor(
    private readonly clock: Clock,
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
    return Math.min(this.ttlSeconds, Math.floor((createdAtMs + this.maxSeconds * 1000 - this.clock.now().getTime()) / 1000));
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
    const now = this.clock.now().getTime();
    const seconds = Math.min(this.ttlSeconds, this.maxSeconds);
    const value = JSON.stringify({ userId, createdAt: now, expiresAt: now + seconds * 1000, userAgent: userAgent?.slice(0, 255) ?? null } satisfies StoredSession);
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

  /**
   * The session's own expiry (`expiresAt`, on the academy's clock) decides; Redis's TTL, set to the same span,
   * only clears keys nobody asks for again. Sessions written before expiresAt was kept fall back on the TTL.
   */
  async find(token: string): Promise<SessionData | null> {
    const id = hashToken(token);
    const key = this.sessionKey(id);
    const [[, value], [, ttl]] = (await this.client.multi().get(key).ttl(key).exec()) as [[null, string | null], [null, number]];
    if (!value || ttl <= 0) return null;
    const session = JSON.parse(value) as StoredSession;
    const now = this.clock.now().getTime();
    const expiresAt = session.expiresAt ?? now + ttl * 1000;
    const allowed = this.secondsAfterUse(typeof session.createdAt === 'number' ? session.createdAt : now);
    if (expiresAt <= now || allowed <= 0) {
      // Idle too long, or past its absolute lifetime: over.
      await this.client.multi().del(key).srem(this.userKey(session.userId), id).exec();
      return null;
    }
    const remaining = (expiresAt - now) / 1000;
    if (remaining >= this.ttlSeconds / 2 || allowed <= remaining) return { userId: session.userId, expiresAt: new Date(expiresAt) };
    const extended = { ...session, expiresAt: now + allowed * 1000 };
    await this.client.multi().set(key, JSON.stringify(extended), 'EX', allowed).expire(this.userKey(session.userId), allowed, 'GT').exec();
    return { userId: session.userId, expiresAt: new Date(extended.expiresAt) };
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

  async listForUser(userId: number): Promise<SessionSummary[]> {
    const ids = await this.client.smembers(this.userKey(userId));
    if (!ids.length) return [];
    const values = await this.client.mget(...ids.map((id) => this.sessionKey(id)));
    const now = this.clock.now().getTime();
    return values
      .flatMap((value) => (value ? [JSON.parse(value) as StoredSession] : []))
      .filter((s) => (s.expiresAt ?? Infinity) > now)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((s) => ({ createdAt: new Date(s.createdAt), expiresAt: new Date(s.expiresAt ?? s.createdAt + this.maxSeconds * 1000), userAgent: s.userAgent ?? null }));
  }

  private get client() {
    return this.redis.client!;
  }
}
