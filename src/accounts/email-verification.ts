import { createHmac, timingSafeEqual } from 'node:crypto';
import { Body, Controller, Get, Injectable, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsNull, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PerPersonCache } from '../redis/per-person-cache';
import { IDENTITY_FACTS } from './accounts.service';
import { OrganisationJoining } from '../common/organisation-joining';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { UnitOfWork } from '../database/unit-of-work';
import { MailService } from '../mail/mail.service';
import { User } from './entities/user.entity';
import { Public, SignedInUser, type CurrentUser } from './identity';
import { RateLimiter } from './rate-limiter';

/** How long a verification link works. */
export const VERIFICATION_TTL_DAYS = 7;
/** Links a person may ask to be sent again, per hour. */
export const VERIFICATION_RESENDS_PER_HOUR = 5;

export type VerificationOutcome = 'verified' | 'already-verified' | 'expired' | 'invalid' | 'address-changed' | 'other-account';

/** What a verification link carries: `/verify-email?u=…&e=…&x=…&s=…`. */
export interface VerificationLinkParams {
  /** The account's id. */
  u?: unknown;
  /** A keyed hash of the address the link was sent to: changing the address voids the link. */
  e?: unknown;
  /** When it stops working, in seconds since 1970. */
  x?: unknown;
  /** HMAC-SHA256 of the rest, keyed with SESSION_SECRET. */
  s?: unknown;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

/** Compares two strings in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * E-mail address verification by a signed link: no table, the link says whose account and address it is for and until
 * when, and the HMAC says the academy wrote it. Valid for 7 days; changing the address voids it (its hash no longer
 * matches); opening it twice says the address is verified already. Verifying tells the organisations module (through
 * the OrganisationJoining port), which makes memberships on the address's domain active at once.
 */
@Injectable()
export class EmailVerification {
  private readonly logger = new Logger('EmailVerification');

  constructor(
    private readonly clock: Clock,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly uow: UnitOfWork,
    private readonly mail: MailService,
    private readonly joining: OrganisationJoining,
    private readonly limiter: RateLimiter,
    @InjectConfig() private readonly config: AppConfig,
    private readonly personCache: PerPersonCache,
  ) {}

  /** The link for this account and address, made now. */
  link(user: { id: number; email: string }, now = this.clock.now()): { url: string; expiresAt: Date } {
    const x = Math.floor(now.getTime() / 1000) + VERIFICATION_TTL_DAYS * 86400;
    const e = this.addressHash(user.email);
    const s = this.signature(user.id, e, x);
    return { url: `${this.config.publicUrl}/verify-email?u=${user.id}&e=${e}&x=${x}&s=${s}`, expiresAt: new Date(x * 1000) };
  }

  /** E-mails a fresh link, unless the address is verified already (or the account is gone or deactivated). */
  async send(userId: number): Promise<boolean> {
    const user = await this.users.findOne({ where: { id: userId }, select: { id: true, name: true, email: true, emailVerifiedAt: true, deactivatedAt: true } });
    if (!user || user.emailVerifiedAt || user.deactivatedAt) return false;
    const now = this.clock.now();
    const { url, expiresAt } = this.link(user, now);
    await this.mail.send({
      to: user.email,
      template: 'verify-email',
      // One message per link: the link's expiry (to the second) makes each one asked for its own.
      dedupeKey: `verify-email:${user.id}:${Math.floor(expiresAt.getTime() / 1000)}`,
      data: { name: user.name, link: url, days: VERIFICATION_TTL_DAYS },
    });
    return true;
  }

  /** "Send the link again", from the account pages: a few an hour per account. */
  async resend(userId: number): Promise<boolean> {
    await this.limiter.hit(`verify-email:account:${userId}`, VERIFICATION_RESENDS_PER_HOUR, 3600);
    return this.send(userId);
  }

  /**
   * Opens a link. Changes nothing unless it is genuine, unexpired, for the account's current address and opened by
   * that account or by nobody signed in; then marks the address verified (once: a second time it says so).
   */
  async verify(params: VerificationLinkParams, viewerId: number | null): Promise<{ outcome: VerificationOutcome; email?: string }> {
    const u = typeof params.u === 'string' && /^[1-9][0-9]{0,15}$/.test(params.u) ? Number(params.u) : null;
    const x = typeof params.x === 'string' && /^[0-9]{1,12}$/.test(params.x) ? Number(params.x) : null;
    const e = typeof params.e === 'string' && /^[A-Za-z0-9_-]{22}$/.test(params.e) ? params.e : null;
    const s = typeof params.s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(params.s) ? params.s : null;
    if (u === null || x === null || e === null || s === null || !Number.isSafeInteger(u) || !sameText(s, this.signature(u, e, x))) return { outcome: 'invalid' };
    // Someone else signed in on this browser: their session must not verify another account's address.
    if (viewerId !== null && viewerId !== u) return { outcome: 'other-account' };
    const user = await this.users.findOne({ where: { id: u }, select: { id: true, email: true, emailVerifiedAt: true } });
    if (!user) return { outcome: 'invalid' };
    if (!sameText(e, this.addressHash(user.email))) return { outcome: 'address-changed' };
    if (user.emailVerifiedAt) {
      // Managers may not have heard yet if the first opening was cut short; telling them again sends nothing twice.
      await this.joining.afterEmailVerified(user.id);
      return { outcome: 'already-verified', email: user.email };
    }
    if (x * 1000 <= this.clock.now().getTime()) return { outcome: 'expired', email: user.email };
    const verified = await this.uow.run(async (tx) => {
      // Conditional on the address too: a change of address committed a moment ago voids this link.
      const result = await tx.getRepository(User).update({ id: user.id, email: user.email, emailVerifiedAt: IsNull() }, { emailVerifiedAt: this.clock.now() });
      if (!result.affected) return false;
      await this.joining.emailVerified(tx, user.id, user.email);
      return true;
    });
    // Pages read "verified" (and the organisation it may have joined) from the next request on.
    if (verified) await this.personCache.forget(IDENTITY_FACTS, [user.id]);
    if (!verified) {
      const now = await this.users.findOne({ where: { id: user.id }, select: { id: true, email: true, emailVerifiedAt: true } });
      return { outcome: now && now.email === user.email && now.emailVerifiedAt ? 'already-verified' : 'address-changed', email: user.email };
    }
    this.logger.log(`Account ${user.id} verified its e-mail address`);
    await this.joining.afterEmailVerified(user.id);
    return { outcome: 'verified', email: user.email };
  }

  private addressHash(email: string): string {
    return b64url(createHmac('sha256', this.config.session.secret).update(`email-address\n${email.trim().toLowerCase()}`).digest().subarray(0, 16));
  }

  private signature(userId: number, addressHash: string, expiresAt: number): string {
    return b64url(createHmac('sha256', this.config.session.secret).update(`verify-email\n${userId}\n${addressHash}\n${expiresAt}`).digest());
  }
}

const TITLES: Record<VerificationOutcome, string> = {
  verified: 'Your e-mail address is verified',
  'already-verified': 'Your e-mail address is already verified',
  expired: 'This link has expired',
  invalid: 'This link does not work',
  'address-changed': 'This link is for an old e-mail address',
  'other-account': 'This link is for another account',
};

/** Where "send the link again" may lead back to. */
const RESEND_RETURNS = ['/account', '/account/organisations'];

@ApiExcludeController()
@Controller()
export class EmailVerificationPagesController {
  constructor(private readonly verification: EmailVerification) {}

  @Public()
  @Get('verify-email')
  async open(@Query() query: VerificationLinkParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const viewer = request.identity?.user ?? null;
    const { outcome, email } = await this.verification.verify(query ?? {}, viewer?.id ?? null);
    const ok = outcome === 'verified' || outcome === 'already-verified';
    return reply.status(ok ? 200 : 400).view('accounts/verify-email', {
      pageTitle: TITLES[outcome],
      title: TITLES[outcome],
      [outcome.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())]: true,
      ok,
      email,
      signedIn: !!viewer,
      days: VERIFICATION_TTL_DAYS,
    });
  }

  @Post('account/verify-email')
  async resend(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const back = RESEND_RETURNS.includes(body?.back) ? body.back : '/account';
    const sent = await this.verification.resend(user.id);
    return reply.redirect(`${back}?notice=${sent ? 'verification-sent' : 'already-verified'}`, 303);
  }
}
