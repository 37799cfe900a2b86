import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { AccountsService } from './accounts.service';
import type { User } from './entities/user.entity';
import { IdentityResolver } from './identity.resolver';
import { RateLimiter } from './rate-limiter';

/** How long a browser is remembered as one that has signed in to its account before. */
export const DEVICE_COOKIE_DAYS = 180;

const DEVICE_COOKIE = /^(\d{1,12})\.([\w-]{22})\.([\w-]{43})$/;

/**
 * Password guessing is limited per account without letting an attacker who knows someone's e-mail address lock
 * them out: OWASP's "device cookies". A browser that signs in gets a cookie naming the account, signed with
 * SESSION_SECRET. Attempts from such a browser for that account spend its own failure budget (and it can be
 * locked out on its own); every other attempt for the account (unknown browsers, API clients, a cookie for
 * another account or with a bad signature) shares the account's budget. So ten wrong passwords from anywhere
 * block unknown devices for the window, while the owner's own browser keeps signing in.
 *
 * Budgets count failures: each attempt is counted before its password is checked (so many attempts at once
 * cannot all slip under the limit) and given back when it succeeds. AUTH_RATE_LIMIT_PER_ACCOUNT failures per
 * AUTH_RATE_WINDOW_SECONDS, for the account's unknown devices and for each known device alike.
 */
@Injectable()
export class SignInProtection {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimiter,
    private readonly identity: IdentityResolver,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * The account with this e-mail and password, or null; throws TooManyRequests when the budget this attempt
   * draws on is spent. `email` is normalised (trimmed, lower case); `deviceCookie` is the browser's, if any.
   */
  async authenticate(email: string, password: string, deviceCookie?: string): Promise<User | null> {
    const { perAccount, windowSeconds } = this.config.authRateLimit;
    const key = (await this.knownDeviceKey(email, deviceCookie)) ?? `signin:account:${email}`;
    await this.limiter.hit(key, perAccount, windowSeconds);
    const user = await this.accounts.authenticate(email, password);
    if (user) await this.limiter.refund(key);
    return user;
  }

  /** The device cookie this browser carries, or undefined. */
  deviceCookieOf(request: FastifyRequest): string | undefined {
    return request.cookies[this.identity.deviceCookie];
  }

  /** Remembers this browser as one that has signed in to the account: a new device cookie, with a fresh budget. */
  rememberDevice(reply: FastifyReply, userId: number): void {
    const nonce = randomBytes(16).toString('base64url');
    reply.setCookie(this.identity.deviceCookie, `${userId}.${nonce}.${this.signature(userId, nonce)}`, this.identity.cookieOptions(DEVICE_COOKIE_DAYS * 86400));
  }

  /** The rate-limit key of a valid device cookie for the account of `email`; null for anything else. */
  private async knownDeviceKey(email: string, cookie: string | undefined): Promise<string | null> {
    const match = cookie ? DEVICE_COOKIE.exec(cookie) : null;
    if (!match) return null;
    const [, id, nonce, signature] = match;
    const userId = Number(id);
    if (!timingSafeEqual(Buffer.from(signature), Buffer.from(this.signature(userId, nonce)))) return null;
    if ((await this.accounts.userIdByEmail(email)) !== userId) return null;
    return `signin:device:${userId}:${nonce}`;
  }

  private signature(userId: number, nonce: string): string {
    return createHmac('sha256', this.config.session.secret).update(`device:${userId}.${nonce}`).digest('base64url');
  }
}
