import { Clock } from '../common/clock';
import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, LessThan, Repository } from 'typeorm';
import { Batcher } from '../common/batcher';
import { Conflict, ValidationFailed } from '../common/errors';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { MailService } from '../mail/mail.service';
import { PerPersonCache, type PerPersonFacts } from '../redis/per-person-cache';
import { SignUpDto, UpdateDetailsDto } from './accounts.dto';
import { ApiToken } from './entities/api-token.entity';
import { OrganisationJoining, type OrganisationPick } from '../common/organisation-joining';
import { PasswordReset } from './entities/password-reset.entity';
import { User } from './entities/user.entity';
import type { CurrentUser } from './identity';
import { PasswordHasher } from './password-hasher';
import { assertStrongPassword, passwordProblem } from './password-policy';
import { Role } from './roles';
import { hashToken, newToken, SessionStore } from './session-store';

export const DEMO_ADMIN_EMAIL = 'admin@demo.peer-academy.local';
export const DEMO_AUTHOR_EMAIL = 'author@demo.peer-academy.local';
export const DUPLICATE_EMAIL_MESSAGE = 'An account could not be created with this e-mail address. If you already have one, sign in or reset your password.';
export const RESET_LINK_INVALID_MESSAGE = 'This password reset link has expired or has already been used. Ask for a new one.';
export const ACCOUNT_DEACTIVATED_MESSAGE = 'This account has been deactivated by an administrator, so it cannot sign in. Contact the academy administrator if you think this is wrong.';

/** A new account's details; the organisation picked on the form, or named by text (the API, the command line, tests). */
export type RegisterInput = Omit<SignUpDto, 'organisation'> & { organisation: string | OrganisationPick };

/** Who a signed-in person is, as every page needs it: kept per person, read afresh after a change or within 30 s. */
export const IDENTITY_FACTS: PerPersonFacts = { kind: 'identity', ttlSeconds: 30 };

/** A person as others see them (AccountsService.peopleOf). */
export interface PersonCard {
  id: number;
  name: string;
  role: Role;
  jobRole: string;
  organisationId: number | null;
  organisationName: string | null;
  joinedAt: Date;
  emailVerified: boolean;
  active: boolean;
}

@Injectable()
export class AccountsService {
  private readonly logger = new Logger('Accounts');

  constructor(
    private readonly clock: Clock,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(ApiToken) private readonly apiTokens: Repository<ApiToken>,
    @InjectRepository(PasswordReset) private readonly resets: Repository<PasswordReset>,
    private readonly uow: UnitOfWork,
    private readonly sessions: SessionStore,
    private readonly hasher: PasswordHasher,
    private readonly mail: MailService,
    private readonly joining: OrganisationJoining,
    @InjectConfig() private readonly config: AppConfig,
    private readonly personCache: PerPersonCache,
  ) {}

  /** The checks of `register` that do not need the organisation: said before sign-up asks which organisation is meant. */
  async assertCanRegister(input: { email: string; name: string; password: string }): Promise<void> {
    const email = input.email.trim().toLowerCase();
    assertStrongPassword(input.password, { email, name: input.name });
    if (await this.users.exists({ where: { email } })) throw new Conflict(DUPLICATE_EMAIL_MESSAGE, { email: DUPLICATE_EMAIL_MESSAGE });
  }

  /**
   * Creates an account, unverified, with a pending membership of its organisation (through the OrganisationJoining
   * port): the one picked, or, named by text, the active one of that name or ODS code, else a request for a new one.
   * A second account with the same e-mail is refused with a message that does not say whose it is.
   */
  async register(input: RegisterInput, role: Role = 'learner'): Promise<User> {
    const email = input.email.trim().toLowerCase();
    await this.assertCanRegister({ ...input, email });
    const passwordHash = await this.hasher.hash(input.password);
    const pick: OrganisationPick = typeof input.organisation === 'string' ? { kind: 'named', name: input.organisation } : input.organisation;
    const create = () =>
      this.uow.run(async (tx) => {
        const users = tx.getRepository(User);
        const user = users.create({ email, name: input.name.trim(), passwordHash, role, organisationId: null, jobRole: input.jobRole.trim(), createdAt: this.clock.now(), lastSignInAt: null, emailVerifiedAt: null, deactivatedAt: null });
        user.id = Number((await users.insert(user)).identifiers[0].id);
        // The organisation they say they work for; what its managers see is decided by the membership.
        user.organisationId = (await this.joining.join(tx, { id: user.id, email, verified: false }, pick)).organisationId;
        await users.update({ id: user.id }, { organisationId: user.organisationId });
        return user;
      });
    try {
      return await create();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Two sign-ups racing with one address: the unique index decides, and the loser hears the same message.
      if (await this.users.exists({ where: { email } })) throw new Conflict(DUPLICATE_EMAIL_MESSAGE, { email: DUPLICATE_EMAIL_MESSAGE });
      // Two asking for one new organisation at once: the second joins the first's.
      return create();
    }
  }

  /**
   * Corrects the person's name and job role (organisations are joined and left on "Your organisations"). Writes only
   * what differs, so saving the same details again changes nothing; returns whether anything changed. The next
   * request's identity reads the new values.
   */
  async updateDetails(userId: number, input: UpdateDetailsDto): Promise<boolean> {
    const user = await this.users.findOneOrFail({ where: { id: userId }, select: { id: true, name: true, jobRole: true } });
    const wanted = { name: input.name.trim(), jobRole: input.jobRole.trim() };
    const changes = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => user[key as keyof typeof wanted] !== value));
    if (!Object.keys(changes).length) return false;
    await this.users.update({ id: userId }, changes);
    await this.identitiesChanged([userId]);
    this.logger.log(`Account ${userId} changed its ${Object.keys(changes).join(', ')}`);
    return true;
  }

  /**
   * The user with this e-mail and password, or null. Takes as long whether or not the e-mail is known. A deactivated
   * account is refused with a message saying so, but only to someone who knows its password.
   */
  async authenticate(email: string, password: string): Promise<User | null> {
    const user = await this.users.findOne({ where: { email: email.trim().toLowerCase() } });
    const ok = await this.hasher.verify(user?.passwordHash ?? null, password);
    if (ok && user?.deactivatedAt) throw new Conflict(ACCOUNT_DEACTIVATED_MESSAGE, { email: ACCOUNT_DEACTIVATED_MESSAGE });
    return ok && user ? user : null;
  }

  /** Whether this is the account's current password (for confirming a deletion). */
  async verifyPassword(userId: number, password: string): Promise<boolean> {
    const user = await this.users.findOne({ where: { id: userId }, select: { id: true, passwordHash: true } });
    return this.hasher.verify(user?.passwordHash ?? null, password);
  }

  /**
   * Whether the account is the only active administrator. With `tx` the administrators' rows stay locked until it
   * ends (as UserAdminService locks them), so two administrators deleting their accounts at once cannot both go.
   */
  async isLastActiveAdministrator(userId: number, tx?: EntityManager): Promise<boolean> {
    const admins = tx ? await this.uow.lockAllForUpdate(tx, User, [{ role: 'admin' }]) : await this.users.find({ where: { role: 'admin' }, select: { id: true, deactivatedAt: true } });
    const active = admins.filter((u) => !u.deactivatedAt).map((u) => u.id);
    return active.length === 1 && active[0] === userId;
  }

  /** Starts a new browser session (a fresh id: never one the visitor had before signing in). */
  async startSession(userId: number, userAgent: string | null): Promise<string> {
    const token = await this.sessions.create(userId, userAgent);
    await this.users.update({ id: userId }, { lastSignInAt: this.clock.now() });
    return token;
  }

  endSession(token: string): Promise<void> {
    return this.sessions.destroy(token);
  }

  /** Signs the user out of every browser and revokes every API token. */
  async signOutEverywhere(userId: number): Promise<void> {
    await this.sessions.destroyAllForUser(userId);
    await this.apiTokens.update({ userId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
    await this.identitiesChanged([userId]);
  }

  /**
   * Changes the password; every other session and every API token is ended, the current session stays, and
   * every password-reset link of the account stops working.
   */
  async changePassword(userId: number, currentPassword: string, newPassword: string, keepSessionToken?: string): Promise<void> {
    const user = await this.users.findOneByOrFail({ id: userId });
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new ValidationFailed({ currentPassword: 'Your current password is not correct' });
    }
    assertStrongPassword(newPassword, user, 'newPassword');
    const passwordHash = await this.hasher.hash(newPassword);
    await this.uow.run(async (tx) => {
      await tx.getRepository(User).update({ id: userId }, { passwordHash });
      await this.voidResetLinks(tx, userId);
    });
    await this.sessions.destroyAllForUser(userId, keepSessionToken);
    await this.apiTokens.update({ userId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }

  /**
   * E-mails a single-use reset link if the address has an active account, voiding the links sent before. Says nothing
   * either way. `alsoInTransaction` runs in the transaction that records the link (an administrator's audit entry).
   */
  async requestPasswordReset(email: string, alsoInTransaction?: (tx: EntityManager) => Promise<void>): Promise<void> {
    const user = await this.users.findOne({ where: { email: email.trim().toLowerCase() }, select: { id: true, name: true, email: true, deactivatedAt: true } });
    if (!user || user.deactivatedAt) return;
    const token = newToken();
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.passwordResetTtlMinutes * 60_000);
    // Only the newest link works: one that leaked from an old e-mail is useless once the owner asks again.
    const reset = await this.uow.run(async (tx) => {
      await this.voidResetLinks(tx, user.id, now);
      await alsoInTransaction?.(tx);
      return tx.getRepository(PasswordReset).save(tx.getRepository(PasswordReset).create({ userId: user.id, tokenHash: hashToken(token), createdAt: now, expiresAt, usedAt: null }));
    });
    await this.mail.send({
      to: user.email,
      template: 'password-reset',
      dedupeKey: `password-reset:${reset.id}`,
      data: { name: user.name, link: `${this.config.publicUrl}/reset-password/${token}`, minutes: this.config.passwordResetTtlMinutes },
    });
  }

  /** True when the link can still be used; for showing the form or a clear message. */
  async isResetTokenUsable(token: string): Promise<boolean> {
    const reset = await this.resets.findOne({ where: { tokenHash: hashToken(token) } });
    return !!reset && !reset.usedAt && reset.expiresAt.getTime() > this.clock.now().getTime();
  }

  /**
   * Sets a new password through a reset link, once. Ends every session and API token of the account, and voids
   * every other reset link it has. A password that may not be used is refused before the link is spent.
   */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    const tokenHash = hashToken(token);
    const reset = await this.resets.findOne({ where: { tokenHash } });
    if (!reset || reset.usedAt || reset.expiresAt.getTime() <= this.clock.now().getTime()) throw new ValidationFailed({ password: RESET_LINK_INVALID_MESSAGE }, RESET_LINK_INVALID_MESSAGE);
    const owner = await this.users.findOneOrFail({ where: { id: reset.userId }, select: { id: true, email: true, name: true } });
    assertStrongPassword(newPassword, owner);
    const passwordHash = await this.hasher.hash(newPassword);
    const used = await this.uow.run(async (tx) => {
      // The conditional update is the single-use guard: of two concurrent uses, one changes a row.
      const claim = await tx.getRepository(PasswordReset).update({ id: reset.id, usedAt: IsNull() }, { usedAt: this.clock.now() });
      if (!claim.affected) return false;
      await tx.getRepository(User).update({ id: reset.userId }, { passwordHash });
      await this.voidResetLinks(tx, reset.userId);
      return true;
    });
    if (!used) throw new ValidationFailed({ password: RESET_LINK_INVALID_MESSAGE }, RESET_LINK_INVALID_MESSAGE);
    await this.signOutEverywhere(reset.userId);
  }

  /** Marks every unused reset link of the account as used, so none of them works any more. */
  private async voidResetLinks(tx: EntityManager, userId: number, at = this.clock.now()): Promise<void> {
    await tx.getRepository(PasswordReset).update({ userId, usedAt: IsNull() }, { usedAt: at });
  }

  async issueApiToken(userId: number): Promise<{ token: string; expiresAt: Date }> {
    const token = `pa_${newToken()}`;
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.apiTokenTtlDays * 86400_000);
    await this.apiTokens.insert({ userId, tokenHash: hashToken(token), createdAt: now, expiresAt, revokedAt: null });
    return { token, expiresAt };
  }

  async revokeApiToken(tokenId: number): Promise<void> {
    await this.apiTokens.update({ id: tokenId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }

  /**
   * The holder of a live API token (neither expired nor revoked). Every API call asks, so the lookups of calls
   * that arrive together share one query for their tokens, users and organisations.
   */
  async userForApiToken(token: string): Promise<{ user: CurrentUser; tokenId: number } | null> {
    const row = await this.tokenHolders.submit(hashToken(token));
    if (!row || row.revokedAt || row.deactivatedAt || asDate(row.expiresAt).getTime() <= this.clock.now().getTime()) return null;
    const organisationId = row.organisationId === null ? null : Number(row.organisationId);
    return {
      tokenId: Number(row.tokenId),
      user: { id: Number(row.id), email: row.email, name: row.name, role: row.role, jobRole: row.jobRole, organisationId, organisationName: row.organisationName ?? null, emailVerified: row.emailVerifiedAt !== null },
    };
  }

  private readonly tokenHolders = new Batcher<string, RawTokenHolder | null>(
    async (hashes) => {
      const rows = await this.apiTokens
        .createQueryBuilder('t')
        .innerJoin('t.user', 'u')
        .leftJoin('u.organisation', 'o')
        .select(['t.token_hash AS tokenHash', 't.id AS tokenId', 't.expires_at AS expiresAt', 't.revoked_at AS revokedAt'])
        .addSelect(['u.id AS id', 'u.email AS email', 'u.name AS name', 'u.role AS role', 'u.job_role AS jobRole', 'u.organisation_id AS organisationId', 'u.deactivated_at AS deactivatedAt', 'u.email_verified_at AS emailVerifiedAt', 'o.name AS organisationName'])
        .where('t.token_hash IN (:...hashes)', { hashes: [...new Set(hashes)] })
        .getRawMany<RawTokenHolder & { tokenHash: string }>();
      const byHash = new Map(rows.map((row) => [row.tokenHash, row]));
      return hashes.map((hash) => byHash.get(hash) ?? null);
    },
    { maxItems: 500, concurrency: 4 },
  );

  /**
   * The person signed in with this session. Who they are is kept per person (PerPersonCache: Redis, so every web
   * instance shares it) rather than read from the database on every page; every change to what it holds (name, job
   * role, role, organisation, verification, deactivation) calls identitiesChanged once it commits.
   */
  async userForSession(token: string): Promise<CurrentUser | null> {
    const session = await this.sessions.find(token);
    // Deactivating ends the account's sessions; one that outlived that (a race) answers as signed out all the same.
    return session ? this.personCache.remember<CurrentUser>(IDENTITY_FACTS, session.userId, () => this.currentUser(session.userId, { activeOnly: true })) : null;
  }

  /** After a change to how these people appear to pages has committed: the next request reads them afresh. */
  identitiesChanged(userIds: readonly number[]): Promise<void> {
    return this.personCache.forget(IDENTITY_FACTS, userIds);
  }

  /** After an organisation's name or its people changed (a rename, a merge): its people are read afresh. */
  async organisationIdentitiesChanged(organisationIds: readonly number[]): Promise<void> {
    if (!organisationIds.length) return;
    const rows = await this.users.find({ where: { organisationId: In([...organisationIds]) }, select: { id: true } });
    await this.identitiesChanged(rows.map((r) => r.id));
  }

  /** The person as a page sees them; with `activeOnly`, null for a deactivated account. */
  async currentUser(userId: number, options: { activeOnly?: boolean } = {}): Promise<CurrentUser | null> {
    const row = await this.users
      .createQueryBuilder('u')
      .leftJoin('u.organisation', 'o')
      .select(['u.id', 'u.email', 'u.name', 'u.role', 'u.jobRole', 'u.organisationId', 'u.deactivatedAt', 'u.emailVerifiedAt', 'o.id', 'o.name'])
      .where('u.id = :userId', { userId })
      .getOne();
    if (!row || (options.activeOnly && row.deactivatedAt)) return null;
    return { id: row.id, email: row.email, name: row.name, role: row.role, jobRole: row.jobRole, organisationId: row.organisationId, organisationName: row.organisation?.name ?? null, emailVerified: row.emailVerifiedAt !== null };
  }

  /**
   * Forgets what can no longer be used: password-reset links a day past their expiry and API tokens a month
   * past theirs (kept that long so "this token has expired" can still be told apart from "unknown").
   */
  async pruneExpired(now = this.clock.now()): Promise<{ resets: number; tokens: number }> {
    const resets = await this.resets.delete({ expiresAt: LessThan(new Date(now.getTime() - 24 * 3600_000)) });
    const tokens = await this.apiTokens.delete({ expiresAt: LessThan(new Date(now.getTime() - 30 * 24 * 3600_000)) });
    return { resets: resets.affected ?? 0, tokens: tokens.affected ?? 0 };
  }

  /** Names and e-mail addresses of several people at once (one query), for background e-mail. */
  async contactsOf(userIds: number[]): Promise<Map<number, { name: string; email: string }>> {
    if (!userIds.length) return new Map();
    const rows = await this.users.find({ where: { id: In(userIds) }, select: { id: true, name: true, email: true } });
    return new Map(rows.map((u) => [u.id, { name: u.name, email: u.email }]));
  }

  /**
   * How several people appear where others meet them (discussions: who is in a thread, who may be mentioned): name,
   * role, job role, organisation, and what posting rules need (when they joined, whether their address is verified,
   * whether the account is active). One query.
   */
  async peopleOf(userIds: readonly number[]): Promise<Map<number, PersonCard>> {
    if (!userIds.length) return new Map();
    const rows = await this.users
      .createQueryBuilder('u')
      .leftJoin('u.organisation', 'o')
      .select(['u.id', 'u.name', 'u.role', 'u.jobRole', 'u.organisationId', 'u.createdAt', 'u.emailVerifiedAt', 'u.deactivatedAt', 'o.id', 'o.name'])
      .where('u.id IN (:...ids)', { ids: [...new Set(userIds)] })
      .getMany();
    return new Map(
      rows.map((u) => [
        u.id,
        { id: u.id, name: u.name, role: u.role, jobRole: u.jobRole, organisationId: u.organisationId, organisationName: u.organisation?.name ?? null, joinedAt: u.createdAt, emailVerified: u.emailVerifiedAt !== null, active: u.deactivatedAt === null },
      ]),
    );
  }

  /** The ids of the active accounts with one of these roles (the site's moderators and administrators: a handful). */
  async activeIdsWithRoles(roles: readonly Role[]): Promise<number[]> {
    if (!roles.length) return [];
    const rows = await this.users.find({ where: { role: In([...roles]), deactivatedAt: IsNull() }, select: { id: true }, order: { id: 'ASC' } });
    return rows.map((u) => u.id);
  }

  async userIdByEmail(email: string): Promise<number | null> {
    const user = await this.users.findOne({ where: { email: email.trim().toLowerCase() }, select: { id: true } });
    return user?.id ?? null;
  }

  /** Creates an administrator, or makes an existing account one (and sets its password). For `npm run admin:create`. */
  async createOrPromoteAdmin(input: { email: string; name: string; password: string; organisation: string }): Promise<'created' | 'promoted'> {
    const email = input.email.trim().toLowerCase();
    const existing = await this.users.findOne({ where: { email } });
    if (existing) {
      assertStrongPassword(input.password, { email, name: existing.name });
      const passwordHash = await this.hasher.hash(input.password);
      await this.uow.run(async (tx) => {
        await tx.getRepository(User).update({ id: existing.id }, { role: 'admin', passwordHash });
        await this.voidResetLinks(tx, existing.id);
      });
      await this.signOutEverywhere(existing.id);
      return 'promoted';
    }
    await this.register({ email, name: input.name, password: input.password, organisation: input.organisation, jobRole: 'Academy administrator' }, 'admin');
    return 'created';
  }

  /**
   * On embedded defaults only: one account per role with a random password, created at the first start.
   * Returns the credentials it created (empty when they already exist), for printing once.
   */
  async seedDemoAccounts(): Promise<Array<{ role: Role; email: string; password: string }>> {
    const demo: Array<{ role: Role; email: string; name: string; jobRole: string }> = [
      { role: 'admin', email: DEMO_ADMIN_EMAIL, name: 'Alex Morgan', jobRole: 'Academy administrator' },
      { role: 'author', email: DEMO_AUTHOR_EMAIL, name: 'Sam Okafor', jobRole: 'Chief clinical information officer' },
      { role: 'org_manager', email: 'manager@demo.peer-academy.local', name: 'Jo Whitfield', jobRole: 'Head of digital learning' },
      { role: 'learner', email: 'learner@demo.peer-academy.local', name: 'Priya Shah', jobRole: 'Clinical safety officer' },
    ];
    if (await this.users.exists({ where: { email: demo[0].email } })) return [];
    const created = [];
    for (const account of demo) {
      // Twelve random characters are strong; the loop only guards against a draw that happens to spell a name.
      let password: string;
      do password = randomBytes(9).toString('base64url');
      while (passwordProblem(password, account));
      await this.register({ ...account, password, organisation: 'Demo Community Health NHS Trust' }, account.role);
      created.push({ role: account.role, email: account.email, password });
    }
    this.logger.log(`Created ${created.length} demo accounts`);
    return created;
  }
}

interface RawTokenHolder {
  tokenId: number | string;
  expiresAt: Date | string;
  revokedAt: Date | string | null;
  id: number | string;
  email: string;
  name: string;
  role: Role;
  jobRole: string;
  organisationId: number | string | null;
  deactivatedAt: Date | string | null;
  emailVerifiedAt: Date | string | null;
  organisationName: string | null;
}

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`));
