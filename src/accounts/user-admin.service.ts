import { isCodeOf } from '../common/label-codes';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, IsNull, Repository } from 'typeorm';
import { AuditTrail, type AuditActor } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../common/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { AccountsService } from './accounts.service';
import { ApiToken } from './entities/api-token.entity';
import { User } from './entities/user.entity';
import { ROLES, type Role } from './roles';

/** The states an administrator filters people by. */
export const USER_STATUSES = { active: 'Active', unverified: 'E-mail address not verified', deactivated: 'Deactivated' } as const;
export type UserStatus = keyof typeof USER_STATUSES;
export const isUserStatus = isCodeOf(USER_STATUSES);
export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

export const PEOPLE_PER_PAGE = 25;

export const LAST_ADMIN_MESSAGE = 'This is the last active administrator. Make someone else an administrator first, so the academy is never left without one.';
export const NOT_A_PERSON = 'There is no person with that number';

export interface UserSearch {
  q?: string;
  role?: Role;
  /** People with an active or pending membership of this organisation. */
  organisationId?: number;
  status?: UserStatus;
  page?: number;
}

/** What an administrator sees of an account. Never the password hash. */
export interface PersonSummary {
  id: number;
  name: string;
  email: string;
  role: Role;
  jobRole: string;
  createdAt: Date;
  lastSignInAt: Date | null;
  emailVerifiedAt: Date | null;
  deactivatedAt: Date | null;
}

const SUMMARY_COLUMNS = ['u.id', 'u.name', 'u.email', 'u.role', 'u.jobRole', 'u.createdAt', 'u.lastSignInAt', 'u.emailVerifiedAt', 'u.deactivatedAt'];

/** `text` for a LIKE pattern: '!' escapes the wildcards (a backslash would mean different things to MySQL and SQLite). */
export const likeEscaped = (text: string) => text.replace(/[!%_]/g, '!$&');

const labelOf = (user: Pick<User, 'name' | 'email'>) => `${user.name} (${user.email})`;

/**
 * What administrators do to accounts: find people, change their role, deactivate and reactivate them, send them a
 * password-reset link. Each change and its audit entry are one transaction. The academy always keeps an active
 * administrator: changes that would remove the last one lock the administrators' rows (an index range, see the
 * 1765140000000 migration) and count them inside the transaction, so two administrators demoting each other at
 * once leave one of them.
 */
@Injectable()
export class UserAdminService {
  private readonly logger = new Logger('UserAdmin');

  constructor(
    private readonly clock: Clock,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditTrail,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * People by name (any word's start), e-mail address (its start or its domain) or organisation name, sorted by name;
   * a page, and whether another follows (one row more is read rather than everything counted).
   */
  async search(filters: UserSearch): Promise<{ people: PersonSummary[]; hasNext: boolean; page: number }> {
    const page = Math.max(1, Math.min(filters.page ?? 1, 10_000));
    const query = this.users
      .createQueryBuilder('u')
      .select(SUMMARY_COLUMNS)
      .orderBy('u.name', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .offset((page - 1) * PEOPLE_PER_PAGE)
      .limit(PEOPLE_PER_PAGE + 1);
    const q = (filters.q ?? '').trim().toLowerCase().slice(0, 100);
    if (q) {
      const text = likeEscaped(q);
      query.andWhere(
        new Brackets((w) =>
          w
            .where(`u.name LIKE :start ESCAPE '!'`, { start: `${text}%` })
            .orWhere(`u.name LIKE :word ESCAPE '!'`, { word: `% ${text}%` })
            .orWhere(`u.email LIKE :start ESCAPE '!'`)
            .orWhere(`u.email LIKE :domain ESCAPE '!'`, { domain: `%@${text.replace(/^@/, '')}%` })
            .orWhere(
              `u.id IN (SELECT sm.user_id FROM organisation_memberships sm INNER JOIN organisations so ON so.id = sm.organisation_id WHERE so.name_key LIKE :organisation ESCAPE '!' AND sm.status IN ('active', 'pending'))`,
              { organisation: `%${text}%` },
            ),
        ),
      );
    }
    if (filters.role) query.andWhere('u.role = :role', { role: filters.role });
    if (filters.organisationId) {
      query.andWhere(`u.id IN (SELECT om.user_id FROM organisation_memberships om WHERE om.organisation_id = :organisationId AND om.status IN ('active', 'pending'))`, {
        organisationId: filters.organisationId,
      });
    }
    if (filters.status === 'active') query.andWhere('u.deactivatedAt IS NULL');
    if (filters.status === 'deactivated') query.andWhere('u.deactivatedAt IS NOT NULL');
    if (filters.status === 'unverified') query.andWhere('u.emailVerifiedAt IS NULL AND u.deactivatedAt IS NULL');
    const rows = await query.getMany();
    return { people: rows.slice(0, PEOPLE_PER_PAGE).map(summaryOf), hasNext: rows.length > PEOPLE_PER_PAGE, page };
  }

  /** One account, or NotFound. */
  async person(userId: number): Promise<PersonSummary> {
    const row = Number.isSafeInteger(userId) && userId > 0 ? await this.users.createQueryBuilder('u').select(SUMMARY_COLUMNS).where('u.id = :userId', { userId }).getOne() : null;
    if (!row) throw new NotFound(NOT_A_PERSON);
    return summaryOf(row);
  }

  /** Gives the person another role; false when it already was theirs. Refuses to demote the last active administrator. */
  async changeRole(actor: AuditActor, userId: number, role: string): Promise<boolean> {
    if (!isRole(role)) throw new ValidationFailed({ role: 'Choose one of the roles listed' });
    const changed = await this.uow.run(async (tx) => {
      const admins = await this.lockAdministrators(tx, actor);
      const user = await this.lockPerson(tx, userId);
      if (user.role === role) return false;
      if (user.role === 'admin' && !user.deactivatedAt && admins.filter((id) => id !== user.id).length === 0) throw new Conflict(LAST_ADMIN_MESSAGE, { role: LAST_ADMIN_MESSAGE });
      await tx.getRepository(User).update({ id: user.id }, { role });
      await this.audit.record(tx, actor, {
        action: 'user.role_changed',
        target: { type: 'user', id: user.id, label: labelOf(user) },
        details: { role: { from: user.role, to: role } },
      });
      this.logger.log(`Account ${user.id} is now ${role} (was ${user.role}), by ${actor.id}`);
      return true;
    });
    // The new role holds from the person's next request, on every instance.
    if (changed) await this.accounts.identitiesChanged([userId]);
    return changed;
  }

  /**
   * Deactivates the account: it cannot sign in, and every session and API token it had ends now (the tokens in the
   * same transaction, the sessions straight after; a session that outlives that by a race is refused at lookup).
   */
  async deactivate(actor: AuditActor, userId: number, reason = ''): Promise<void> {
    const why = reason.trim().slice(0, 500);
    await this.uow.run(async (tx) => {
      const admins = await this.lockAdministrators(tx, actor);
      const user = await this.lockPerson(tx, userId);
      if (user.deactivatedAt) throw new Conflict('This account is already deactivated', { confirm: 'This account is already deactivated' });
      if (user.role === 'admin' && admins.filter((id) => id !== user.id).length === 0) throw new Conflict(LAST_ADMIN_MESSAGE, { confirm: LAST_ADMIN_MESSAGE });
      if (user.id === actor.id) throw new Conflict('You cannot deactivate your own account', { confirm: 'You cannot deactivate your own account' });
      const now = this.clock.now();
      await tx.getRepository(User).update({ id: user.id }, { deactivatedAt: now });
      const tokens = await tx.getRepository(ApiToken).update({ userId: user.id, revokedAt: IsNull() }, { revokedAt: now });
      await this.audit.record(tx, actor, {
        action: 'user.deactivated',
        target: { type: 'user', id: user.id, label: labelOf(user) },
        details: { role: user.role, apiTokensRevoked: tokens.affected ?? 0, ...(why ? { reason: why } : {}) },
      });
    });
    await this.accounts.signOutEverywhere(userId);
    this.logger.log(`Account ${userId} deactivated by ${actor.id}`);
  }

  async reactivate(actor: AuditActor, userId: number): Promise<void> {
    await this.uow.run(async (tx) => {
      const user = await this.lockPerson(tx, userId);
      if (!user.deactivatedAt) throw new Conflict('This account is not deactivated', { confirm: 'This account is not deactivated' });
      await tx.getRepository(User).update({ id: user.id }, { deactivatedAt: null });
      await this.audit.record(tx, actor, {
        action: 'user.reactivated',
        target: { type: 'user', id: user.id, label: labelOf(user) },
        details: { deactivatedAt: user.deactivatedAt.toISOString() },
      });
    });
    await this.accounts.identitiesChanged([userId]);
  }

  /** E-mails the person a password-reset link (voiding earlier ones), recorded in the audit log with the link. */
  async sendPasswordReset(actor: AuditActor, userId: number): Promise<PersonSummary> {
    const person = await this.person(userId);
    if (person.deactivatedAt) throw new Conflict('This account is deactivated. Reactivate it before sending a password reset link.', { reset: 'Reactivate the account before sending a password reset link' });
    await this.accounts.requestPasswordReset(person.email, (tx) =>
      this.audit.record(tx, actor, { action: 'user.password_reset_sent', target: { type: 'user', id: person.id, label: labelOf(person) }, details: { email: person.email } }),
    );
    return person;
  }

  /**
   * Locks every administrator's row (on MySQL/MariaDB a range of idx_users_role; SQLite transactions run one at a
   * time) and returns the active ones' ids. The actor must still be one of them: an administrator demoted a moment ago
   * by someone else cannot go on acting as one.
   */
  private async lockAdministrators(tx: EntityManager, actor: AuditActor): Promise<number[]> {
    const admins = await this.uow.lockAllForUpdate(tx, User, [{ role: 'admin' }]);
    const active = admins.filter((u) => !u.deactivatedAt).map((u) => u.id);
    if (actor.id !== null && !active.includes(actor.id)) throw new Forbidden('You are no longer an administrator');
    return active;
  }

  private async lockPerson(tx: EntityManager, userId: number): Promise<User> {
    const user = Number.isSafeInteger(userId) && userId > 0 ? await this.uow.lockForUpdate(tx, User, { id: userId }) : null;
    if (!user) throw new NotFound(NOT_A_PERSON);
    return user;
  }
}

function summaryOf(u: User): PersonSummary {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    jobRole: u.jobRole,
    createdAt: u.createdAt,
    lastSignInAt: u.lastSignInAt,
    emailVerifiedAt: u.emailVerifiedAt,
    deactivatedAt: u.deactivatedAt,
  };
}
