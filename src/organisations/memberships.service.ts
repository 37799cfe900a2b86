import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import type { CurrentUser } from '../accounts/identity';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Conflict, NotFound } from '../common/errors';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { UnitOfWork } from '../database/unit-of-work';
import { MailService } from '../mail/mail.service';
import { Membership } from './entities/membership.entity';
import { OrganisationDomain } from './entities/organisation-domain.entity';
import { Organisation } from './entities/organisation.entity';
import { ManagerScope } from './manager-scope';
import type { MembershipStatus, OrganisationStatus } from './organisation-kinds';

export const UNVERIFIED_REQUEST_MESSAGE = 'This person has not verified their e-mail address yet, so they cannot be approved. Their request stays here until they do.';
export const REQUEST_DEALT_WITH_MESSAGE = 'This request has already been approved or declined';
export const NO_SUCH_REQUEST_MESSAGE = 'There is no request to join your organisation with that number';
export const NOT_A_MEMBER_MESSAGE = 'You are not a member of that organisation, or have asked to join it';
export const lastManagerMessage = (organisation: string) =>
  `You are the only manager of ${organisation}, and it has staff who would have nobody to look after their learning. Ask an administrator to appoint another manager before you leave.`;

/** What an account is told about one of its memberships. */
export interface MembershipOfUser {
  id: number;
  organisationId: number;
  organisationName: string;
  organisationStatus: OrganisationStatus;
  status: MembershipStatus;
  isManager: boolean;
  requestedAt: Date;
  joinedAt: Date | null;
  updatedAt: Date;
  /** The names of the organisation's managers (without the person themselves). */
  managers: string[];
}

/** A request waiting for one of the organisation's managers. */
export interface PendingRequest {
  id: number;
  userId: number;
  name: string;
  email: string;
  jobRole: string;
  emailVerified: boolean;
  requestedAt: Date;
}

/** The domain of an e-mail address, lower case. */
export const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).trim().toLowerCase();

/** Account columns read here; the accounts module owns the table, memberships join to it by its entity's name. */
interface AccountRow {
  id: number;
  name: string;
  email: string;
  role: string;
  emailVerifiedAt: Date | null;
}

/**
 * Memberships: joining (one row per person and organisation, reopened when they join again), the e-mail domain rule,
 * managers' approvals, leaving, and who is a member. Managers are e-mailed once per request.
 */
@Injectable()
export class MembershipsService {
  private readonly logger = new Logger('Memberships');

  constructor(
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly scope: ManagerScope,
    private readonly audit: AuditTrail,
    private readonly mail: MailService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The ids of the organisation's active members (managers included). */
  async activeMemberIds(organisationId: number): Promise<number[]> {
    const rows = await this.memberships.find({ where: { organisationId, status: 'active' }, select: { userId: true }, order: { userId: 'ASC' } });
    return rows.map((r) => r.userId);
  }

  /** Every membership the person has or had, with each organisation's managers, by organisation name (two queries). */
  async membershipsOf(userId: number): Promise<MembershipOfUser[]> {
    const rows = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.organisation', 'o')
      .select(['m.id', 'm.organisationId', 'm.status', 'm.isManager', 'm.requestedAt', 'm.joinedAt', 'm.updatedAt', 'o.id', 'o.name', 'o.nameKey', 'o.status'])
      .where('m.userId = :userId', { userId })
      .orderBy('o.nameKey')
      .getMany();
    const managers = await this.managerNames(rows.map((m) => m.organisationId));
    return rows.map((m) => ({
      id: m.id,
      organisationId: m.organisationId,
      organisationName: m.organisation!.name,
      organisationStatus: m.organisation!.status,
      status: m.status,
      isManager: m.isManager,
      requestedAt: m.requestedAt,
      joinedAt: m.joinedAt,
      updatedAt: m.updatedAt,
      managers: (managers.get(m.organisationId) ?? []).filter((manager) => manager.userId !== userId).map((manager) => manager.name),
    }));
  }

  /** The person's membership of one organisation, if they have (or had) one. */
  async membershipOf(userId: number, organisationId: number): Promise<MembershipOfUser | null> {
    return (await this.membershipsOf(userId)).find((m) => m.organisationId === organisationId) ?? null;
  }

  /**
   * Joins the account to the organisation inside the caller's transaction: a new pending membership, or the one row
   * reopened after leaving or being declined. It is active at once when the account's address is verified and on one
   * of the organisation's verified domains. An active or pending membership is left as it is. `notify`: a manager
   * should now hear of the request (see notifyManagers).
   */
  async join(tx: EntityManager, account: { id: number; email: string; verified: boolean }, organisationId: number): Promise<{ membershipId: number; status: MembershipStatus; changed: boolean; notify: boolean }> {
    const now = this.clock.now();
    const existing = await this.uow.lockForUpdate(tx, Membership, { organisationId, userId: account.id });
    if (existing && (existing.status === 'active' || existing.status === 'pending')) return { membershipId: existing.id, status: existing.status, changed: false, notify: false };
    const onDomain = account.verified && (await this.organisationOwnsDomain(tx, organisationId, domainOf(account.email)));
    const status: MembershipStatus = onDomain ? 'active' : 'pending';
    const values = { status, isManager: false, requestedAt: now, updatedAt: now, decidedById: null, ...(onDomain ? { joinedAt: now } : {}) };
    let membershipId: number;
    if (existing) {
      await tx.getRepository(Membership).update({ id: existing.id }, values);
      membershipId = existing.id;
    } else {
      const result = await tx.getRepository(Membership).insert({ organisationId, userId: account.id, joinedAt: null, ...values });
      membershipId = Number(result.identifiers[0].id);
    }
    return { membershipId, status, changed: true, notify: status === 'pending' && account.verified };
  }

  /** Joins in a transaction of its own and e-mails the managers if they now have a request to decide. */
  async joinNow(account: { id: number; email: string; verified: boolean }, organisationId: number): Promise<{ status: MembershipStatus; changed: boolean }> {
    const joined = await this.uow.run((tx) => this.join(tx, account, organisationId));
    if (joined.notify) await this.notifyManagers(account.id);
    return joined;
  }

  /**
   * Inside the transaction that marks the address verified: the pending membership of the (live) organisation that
   * has verified the address's domain becomes active now. The others wait for a manager.
   */
  async activateOnDomain(tx: EntityManager, userId: number, email: string): Promise<number> {
    const domain = await tx.getRepository(OrganisationDomain).findOne({ where: { domain: domainOf(email) }, select: { organisationId: true } });
    if (!domain) return 0;
    const organisation = await tx.getRepository(Organisation).findOne({ where: { id: domain.organisationId }, select: { id: true, status: true } });
    if (organisation?.status !== 'active') return 0;
    const now = this.clock.now();
    const result = await tx.getRepository(Membership).update({ userId, organisationId: organisation.id, status: 'pending' }, { status: 'active', joinedAt: now, updatedAt: now });
    return result.affected ?? 0;
  }

  /**
   * E-mails the managers of each live organisation the (verified) person is waiting to join. Once per request: the key
   * names the membership and when it was asked for, so a repeat sends nothing and asking again after leaving sends again.
   */
  async notifyManagers(userId: number): Promise<void> {
    const person = await this.account(this.memberships.manager, userId);
    if (!person?.emailVerifiedAt) return;
    const pending = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.organisation', 'o')
      .select(['m.id', 'm.organisationId', 'm.requestedAt', 'o.id', 'o.name'])
      .where('m.userId = :userId AND m.status = :pending AND o.status = :live', { userId, pending: 'pending', live: 'active' })
      .getMany();
    if (!pending.length) return;
    const managers = await this.managerContacts(pending.map((m) => m.organisationId));
    const jobRole = (await this.memberships.manager.getRepository<{ id: number; jobRole: string }>('User').findOne({ where: { id: userId }, select: { id: true, jobRole: true } }))?.jobRole ?? '';
    const messages = pending.flatMap((m) =>
      (managers.get(m.organisationId) ?? [])
        .filter((manager) => manager.userId !== userId)
        .map((manager) => ({
          to: manager.email,
          template: 'join-request',
          dedupeKey: `join-request:${m.id}:${m.requestedAt.getTime()}:${manager.userId}`,
          data: {
            name: manager.name,
            personName: person.name,
            personEmail: person.email,
            jobRole,
            organisationName: m.organisation!.name,
            link: `${this.config.publicUrl}/organisation/${m.organisationId}/requests`,
          },
        })),
    );
    if (messages.length) await this.mail.sendMany(messages);
  }

  /** The organisation's pending requests, oldest first (one query). */
  async pendingRequests(organisationId: number): Promise<PendingRequest[]> {
    const rows = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.user', 'u')
      .select(['m.id AS id', 'm.user_id AS userId', 'm.requested_at AS requestedAt', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole', 'u.email_verified_at AS verifiedAt'])
      .where('m.organisation_id = :organisationId AND m.status = :pending', { organisationId, pending: 'pending' })
      .orderBy('m.requested_at', 'ASC')
      .addOrderBy('m.id', 'ASC')
      .limit(500)
      .getRawMany<{ id: number | string; userId: number | string; requestedAt: Date | string; name: string; email: string; jobRole: string; verifiedAt: Date | string | null }>();
    return rows.map((r) => ({ id: Number(r.id), userId: Number(r.userId), name: r.name, email: r.email, jobRole: r.jobRole, emailVerified: r.verifiedAt !== null, requestedAt: asDate(r.requestedAt) }));
  }

  /** A request of the organisation that has been decided: the person's name and the outcome (for the page that follows). */
  async decision(organisationId: number, membershipId: number): Promise<{ name: string; status: MembershipStatus } | null> {
    const row = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.user', 'u')
      .select(['m.status AS status', 'u.name AS name'])
      .where('m.id = :membershipId AND m.organisation_id = :organisationId AND m.decided_by_id IS NOT NULL', { membershipId, organisationId })
      .getRawOne<{ status: MembershipStatus; name: string }>();
    return row ?? null;
  }

  /** A manager of the organisation (or an administrator) approves a pending request of a verified account. */
  approve(decider: CurrentUser, organisationId: number, membershipId: number): Promise<{ name: string }> {
    return this.decide(decider, organisationId, membershipId, 'active');
  }

  /** A manager of the organisation (or an administrator) declines a pending request. */
  decline(decider: CurrentUser, organisationId: number, membershipId: number): Promise<{ name: string }> {
    return this.decide(decider, organisationId, membershipId, 'declined');
  }

  private async decide(decider: CurrentUser, organisationId: number, membershipId: number, outcome: 'active' | 'declined'): Promise<{ name: string }> {
    const organisation = await this.scope.organisationFor(decider, organisationId);
    if (!Number.isSafeInteger(membershipId) || membershipId < 1) throw new NotFound(NO_SUCH_REQUEST_MESSAGE);
    return this.uow.run(async (tx) => {
      const membership = await this.uow.lockForUpdate(tx, Membership, { id: membershipId });
      if (!membership || membership.organisationId !== organisation.id) throw new NotFound(NO_SUCH_REQUEST_MESSAGE);
      if (membership.status !== 'pending') throw new Conflict(REQUEST_DEALT_WITH_MESSAGE);
      const person = await this.account(tx, membership.userId);
      if (!person) throw new NotFound(NO_SUCH_REQUEST_MESSAGE);
      if (outcome === 'active' && !person.emailVerifiedAt) throw new Conflict(UNVERIFIED_REQUEST_MESSAGE);
      const now = this.clock.now();
      await tx.getRepository(Membership).update({ id: membership.id }, { status: outcome, decidedById: decider.id, updatedAt: now, ...(outcome === 'active' ? { joinedAt: now } : {}) });
      await this.audit.record(
        tx,
        { id: decider.id, name: decider.name },
        {
          action: outcome === 'active' ? 'membership.approved' : 'membership.declined',
          target: { type: 'membership', id: membership.id, label: `${person.name} at ${organisation.name}` },
          details: { organisationId: organisation.id, userId: person.id, requestedAt: membership.requestedAt.toISOString() },
        },
      );
      this.logger.log(`Membership ${membership.id} of organisation ${organisation.id} ${outcome === 'active' ? 'approved' : 'declined'} by ${decider.id}`);
      return { name: person.name };
    });
  }

  /**
   * The person leaves the organisation (an active membership or a pending request): the row becomes `left` and its
   * managers see them no more. The last manager of an organisation that has staff is refused: somebody must be left
   * to look after them. A manager who leaves the last organisation they manage is an organisation manager no more.
   */
  async leave(user: CurrentUser, organisationId: number): Promise<{ organisationName: string }> {
    return this.uow.run(async (tx) => {
      // The organisation's row is the lock that makes its managers' leaving take turns, so two cannot both leave last.
      const organisation = Number.isSafeInteger(organisationId) && organisationId > 0 ? await this.uow.lockForUpdate(tx, Organisation, { id: organisationId }) : null;
      const membership = organisation ? await this.uow.lockForUpdate(tx, Membership, { organisationId, userId: user.id }) : null;
      if (!organisation || !membership || (membership.status !== 'active' && membership.status !== 'pending')) throw new NotFound(NOT_A_MEMBER_MESSAGE);
      const managing = membership.status === 'active' && membership.isManager;
      if (managing) {
        const repository = tx.getRepository(Membership);
        const otherManagers = await repository.createQueryBuilder('m').where('m.organisationId = :organisationId AND m.status = :active AND m.isManager = :yes AND m.userId <> :me', { organisationId, active: 'active', yes: true, me: user.id }).getCount();
        if (!otherManagers) {
          const staff = await repository.createQueryBuilder('m').where('m.organisationId = :organisationId AND m.status = :active AND m.userId <> :me', { organisationId, active: 'active', me: user.id }).getCount();
          if (staff) throw new Conflict(lastManagerMessage(organisation.name), {}, 'last_manager');
        }
      }
      await tx.getRepository(Membership).update({ id: membership.id }, { status: 'left', isManager: false, updatedAt: this.clock.now() });
      if (managing && user.role === 'org_manager') {
        const stillManages = await tx.getRepository(Membership).exists({ where: { userId: user.id, status: 'active', isManager: true } });
        if (!stillManages) await tx.getRepository('User').update({ id: user.id, role: 'org_manager' }, { role: 'learner' });
      }
      return { organisationName: organisation.name };
    });
  }

  private async organisationOwnsDomain(tx: EntityManager, organisationId: number, domain: string): Promise<boolean> {
    return tx.getRepository(OrganisationDomain).exists({ where: { organisationId, domain } });
  }

  private account(manager: EntityManager, userId: number): Promise<AccountRow | null> {
    return manager.getRepository<AccountRow>('User').findOne({ where: { id: userId }, select: { id: true, name: true, email: true, role: true, emailVerifiedAt: true } });
  }

  /** The managers of several organisations, by organisation (one query). */
  private async managerContacts(organisationIds: number[]): Promise<Map<number, Array<{ userId: number; name: string; email: string }>>> {
    const result = new Map<number, Array<{ userId: number; name: string; email: string }>>();
    const ids = [...new Set(organisationIds)];
    if (!ids.length) return result;
    const rows = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.user', 'u')
      .select(['m.organisation_id AS organisationId', 'm.user_id AS userId', 'u.name AS name', 'u.email AS email'])
      .where({ organisationId: In(ids), status: 'active', isManager: true })
      .orderBy('u.name')
      .getRawMany<{ organisationId: number | string; userId: number | string; name: string; email: string }>();
    for (const row of rows) {
      const list = result.get(Number(row.organisationId)) ?? [];
      list.push({ userId: Number(row.userId), name: row.name, email: row.email });
      result.set(Number(row.organisationId), list);
    }
    return result;
  }

  private async managerNames(organisationIds: number[]): Promise<Map<number, Array<{ userId: number; name: string }>>> {
    return this.managerContacts(organisationIds);
  }
}

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`));
