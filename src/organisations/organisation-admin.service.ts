import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In, Not, Repository } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AuditTrail, type AuditActor } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Conflict, FieldErrors, NotFound, ValidationFailed } from '../common/errors';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { Membership } from './entities/membership.entity';
import { OrganisationDomain } from './entities/organisation-domain.entity';
import { Organisation, organisationNameKey, tidyOrganisationName } from './entities/organisation.entity';
import { OrganisationRequirement } from './entities/requirement.entity';
import {
  isOrganisationType,
  isRegion,
  MembershipStatus,
  normaliseDomain,
  normaliseOdsCode,
  ODS_CODE_MESSAGE,
  ORGANISATION_STATUSES,
  ORGANISATION_TYPES,
  OrganisationStatus,
  OrganisationType,
  Region,
  REGIONS,
} from './organisation-kinds';

export const ORGANISATIONS_PER_PAGE = 25;
export const NO_SUCH_ORGANISATION = 'There is no organisation with that number';
export const DOMAIN_MESSAGE = 'Enter a domain like leedsth.nhs.uk (the part of the e-mail address after the @)';
export const LAST_MANAGER_MESSAGE = 'This is the last manager of an organisation with active staff. Appoint another manager first, so someone can still see their learning and approve who joins.';

export const ORGANISATION_STATUS_LABELS: Record<OrganisationStatus, string> = { active: 'Active', requested: 'Requested', declined: 'Declined', merged: 'Merged' };
export const MEMBERSHIP_STATUS_LABELS: Record<MembershipStatus, string> = { active: 'Active', pending: 'Waiting for approval', left: 'Left', declined: 'Declined' };
export const isOrganisationStatus = (value: unknown): value is OrganisationStatus => typeof value === 'string' && (ORGANISATION_STATUSES as readonly string[]).includes(value);

/** How far a membership has come: when two memberships of one person fold into one, the further one wins. */
const MEMBERSHIP_RANK: Record<MembershipStatus, number> = { active: 4, pending: 3, left: 2, declined: 1 };

/** The users table as this module reads it (by entity name: the accounts module owns the class). */
interface PersonRow {
  id: number;
  name: string;
  email: string;
  role: string;
  emailVerifiedAt: Date | null;
  deactivatedAt: Date | null;
  organisationId: number | null;
}
const PERSON = 'User';

export interface OrganisationInput {
  name?: string;
  type?: string;
  odsCode?: string;
  region?: string;
}

export interface OrganisationSummary {
  id: number;
  name: string;
  type: OrganisationType;
  typeLabel: string;
  odsCode: string | null;
  region: Region | null;
  regionLabel: string | null;
  status: OrganisationStatus;
  statusLabel: string;
  mergedIntoId: number | null;
  createdAt: Date;
  activeMembers: number;
  pendingMembers: number;
  managers: number;
}

export interface OrganisationDetail extends OrganisationSummary {
  domains: Array<{ id: number; domain: string; createdAt: Date }>;
  managerList: Array<{ userId: number; name: string; email: string }>;
  mergedInto: { id: number; name: string } | null;
  requestedBy: { id: number; name: string; email: string } | null;
}

export interface MembershipOfPerson {
  organisationId: number;
  organisationName: string;
  organisationStatus: OrganisationStatus;
  status: MembershipStatus;
  statusLabel: string;
  isManager: boolean;
  requestedAt: Date;
  joinedAt: Date | null;
}

export interface MergePreview {
  duplicate: OrganisationSummary;
  into: OrganisationSummary;
  memberships: number;
  inBoth: number;
  accounts: number;
  domains: number;
  requirements: number;
}

/** The person must first become an active member of the organisation before they can manage it: the page offers it. */
export class MembershipNeeded extends Conflict {
  constructor(
    readonly person: { id: number; name: string; email: string },
    readonly membershipStatus: MembershipStatus | null,
  ) {
    const message = `${person.name} is not an active member of this organisation. A manager must be one.`;
    super(message, { email: message });
  }
}

/**
 * What administrators do to organisations: list, create and edit them, decide on requested ones, merge duplicates,
 * keep their verified e-mail domains and appoint or remove their managers. Every change takes the organisation's
 * row lock first (so changes to one organisation take turns, and the reads after it see what the previous one
 * committed) and writes its audit entry in the same transaction.
 */
@Injectable()
export class OrganisationAdminService {
  private readonly logger = new Logger('OrganisationAdmin');

  constructor(
    private readonly clock: Clock,
    private readonly dataSource: DataSource,
    @InjectRepository(Organisation) private readonly organisations: Repository<Organisation>,
    @InjectRepository(OrganisationDomain) private readonly domains: Repository<OrganisationDomain>,
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditTrail,
    private readonly accounts: AccountsService,
  ) {}

  // ------------------------------------------------------------------ reading

  /** Organisations by name (or ODS code), sorted by name, a page at a time, with their member counts. */
  async list(filters: { q?: string; status?: OrganisationStatus; type?: OrganisationType; page?: number }): Promise<{ organisations: OrganisationSummary[]; hasNext: boolean; page: number }> {
    const page = Math.max(1, Math.min(filters.page ?? 1, 10_000));
    const query = this.organisations
      .createQueryBuilder('o')
      .orderBy('o.nameKey', 'ASC')
      .addOrderBy('o.id', 'ASC')
      .offset((page - 1) * ORGANISATIONS_PER_PAGE)
      .limit(ORGANISATIONS_PER_PAGE + 1);
    const q = (filters.q ?? '').trim().slice(0, 150);
    if (q) {
      const ods = normaliseOdsCode(q);
      query.andWhere(
        new Brackets((w) => {
          w.where(`o.nameKey LIKE :name ESCAPE '!'`, { name: `%${organisationNameKey(q).replace(/[!%_]/g, '!$&')}%` });
          if (ods) w.orWhere('o.odsCode = :ods', { ods });
        }),
      );
    }
    if (filters.status) query.andWhere('o.status = :status', { status: filters.status });
    if (filters.type) query.andWhere('o.type = :type', { type: filters.type });
    const rows = await query.getMany();
    const shown = rows.slice(0, ORGANISATIONS_PER_PAGE);
    const counts = await this.memberCounts(shown.map((o) => o.id));
    return { organisations: shown.map((o) => summaryOf(o, counts.get(o.id))), hasNext: rows.length > ORGANISATIONS_PER_PAGE, page };
  }

  /** How many organisations wait for an administrator's decision. */
  requestedCount(): Promise<number> {
    return this.organisations.count({ where: { status: 'requested' } });
  }

  async detail(organisationId: number): Promise<OrganisationDetail> {
    const organisation = await this.find(organisationId);
    const [counts, domains, managers, mergedInto, requestedBy] = await Promise.all([
      this.memberCounts([organisation.id]),
      this.domains.find({ where: { organisationId: organisation.id }, order: { domain: 'ASC' }, select: { id: true, domain: true, createdAt: true } }),
      this.memberships
        .createQueryBuilder('m')
        .innerJoin('users', 'u', 'u.id = m.user_id')
        .select(['m.user_id AS userId', 'u.name AS name', 'u.email AS email'])
        .where('m.organisationId = :id AND m.status = :active AND m.isManager = :yes', { id: organisation.id, active: 'active', yes: true })
        .orderBy('u.name', 'ASC')
        .getRawMany<{ userId: number | string; name: string; email: string }>(),
      organisation.mergedIntoId ? this.organisations.findOne({ where: { id: organisation.mergedIntoId }, select: { id: true, name: true } }) : null,
      organisation.requestedById ? this.people().findOne({ where: { id: organisation.requestedById }, select: { id: true, name: true, email: true } }) : null,
    ]);
    return {
      ...summaryOf(organisation, counts.get(organisation.id)),
      domains,
      managerList: managers.map((m) => ({ userId: Number(m.userId), name: m.name, email: m.email })),
      mergedInto: mergedInto ? { id: mergedInto.id, name: mergedInto.name } : null,
      requestedBy: requestedBy ? { id: requestedBy.id, name: requestedBy.name, email: requestedBy.email } : null,
    };
  }

  /** The form's values for editing an organisation. */
  async forEditing(organisationId: number): Promise<Organisation> {
    return this.find(organisationId);
  }

  /** Each person's memberships, with the organisations' names (one query for all of them). */
  async membershipsOf(userIds: number[]): Promise<Map<number, MembershipOfPerson[]>> {
    const result = new Map<number, MembershipOfPerson[]>();
    if (!userIds.length) return result;
    const rows = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.organisation', 'o')
      .select(['m.id', 'm.userId', 'm.status', 'm.isManager', 'm.requestedAt', 'm.joinedAt', 'o.id', 'o.name', 'o.nameKey', 'o.status'])
      .where('m.userId IN (:...userIds)', { userIds: [...new Set(userIds)] })
      .orderBy('o.nameKey', 'ASC')
      .getMany();
    for (const m of rows) {
      const list = result.get(m.userId) ?? [];
      list.push({
        organisationId: m.organisation!.id,
        organisationName: m.organisation!.name,
        organisationStatus: m.organisation!.status,
        status: m.status,
        statusLabel: MEMBERSHIP_STATUS_LABELS[m.status],
        isManager: m.isManager && m.status === 'active',
        requestedAt: m.requestedAt,
        joinedAt: m.joinedAt,
      });
      result.set(m.userId, list);
    }
    return result;
  }

  /** An organisation's name, for a filter's caption; null when there is none with that id. */
  async nameOf(organisationId: number): Promise<string | null> {
    if (!Number.isSafeInteger(organisationId) || organisationId < 1) return null;
    return (await this.organisations.findOne({ where: { id: organisationId }, select: { id: true, name: true } }))?.name ?? null;
  }

  /** Active organisations other than this one whose name matches, to merge a duplicate into (at most 20). */
  async mergeCandidates(duplicateId: number, q: string): Promise<OrganisationSummary[]> {
    const text = organisationNameKey(q).slice(0, 150);
    if (!text) return [];
    const rows = await this.organisations
      .createQueryBuilder('o')
      .where(`o.status = 'active' AND o.id <> :id AND o.nameKey LIKE :name ESCAPE '!'`, { id: duplicateId, name: `%${text.replace(/[!%_]/g, '!$&')}%` })
      .orderBy('o.nameKey', 'ASC')
      .limit(20)
      .getMany();
    const counts = await this.memberCounts(rows.map((o) => o.id));
    return rows.map((o) => summaryOf(o, counts.get(o.id)));
  }

  /** What merging the duplicate into the other would move, for the confirmation page. Refuses what merge refuses. */
  async mergePreview(duplicateId: number, intoId: number): Promise<MergePreview> {
    const duplicate = await this.find(duplicateId);
    const into = await this.mergeTarget(intoId);
    assertMergeable(duplicate, into);
    const [memberships, inBoth, accounts, domains, requirements, counts] = await Promise.all([
      this.memberships.count({ where: { organisationId: duplicate.id } }),
      this.memberships
        .createQueryBuilder('d')
        .innerJoin(Membership, 't', 't.userId = d.userId AND t.organisationId = :into', { into: into.id })
        .where('d.organisationId = :dup', { dup: duplicate.id })
        .getCount(),
      this.people().count({ where: { organisationId: duplicate.id } }),
      this.domains.count({ where: { organisationId: duplicate.id } }),
      this.dataSource.getRepository(OrganisationRequirement).count({ where: { organisationId: duplicate.id } }),
      this.memberCounts([duplicate.id, into.id]),
    ]);
    return { duplicate: summaryOf(duplicate, counts.get(duplicate.id)), into: summaryOf(into, counts.get(into.id)), memberships, inBoth, accounts, domains, requirements };
  }

  // ------------------------------------------------------------------ creating and editing

  async create(actor: AuditActor, input: OrganisationInput): Promise<Organisation> {
    const values = validated(input);
    const created = await this.uniquely(values, () =>
      this.uow.run(async (tx) => {
        await this.assertUnique(tx, values, null);
        const organisation = await tx.getRepository(Organisation).save(
          tx.getRepository(Organisation).create({ ...values, status: 'active', mergedIntoId: null, requestedById: null, createdAt: this.clock.now() }),
        );
        await this.audit.record(tx, actor, { action: 'organisation.created', target: target(organisation), details: { ...values, nameKey: undefined } });
        return organisation;
      }),
    );
    this.logger.log(`Organisation ${created.id} created by ${actor.id}`);
    return created;
  }

  /** Saves the organisation's details; returns the names of the fields that changed (none: nothing written). */
  async update(actor: AuditActor, organisationId: number, input: OrganisationInput): Promise<string[]> {
    const values = validated(input);
    const changed = await this.uniquely(values, () =>
      this.uow.run(async (tx) => {
        const organisation = await this.lock(tx, organisationId);
        if (organisation.status === 'merged') throw new Conflict('This organisation has been merged into another and cannot be changed');
        await this.assertUnique(tx, values, organisation.id);
        const fields = (['name', 'type', 'odsCode', 'region'] as const).filter((f) => organisation[f] !== values[f]);
        if (!fields.length) return [];
        await tx.getRepository(Organisation).update({ id: organisation.id }, values);
        await this.audit.record(tx, actor, {
          action: 'organisation.updated',
          target: target({ id: organisation.id, name: values.name }),
          details: Object.fromEntries(fields.map((f) => [f, { from: organisation[f], to: values[f] }])),
        });
        return [...fields];
      }),
    );
    // Its people's pages name it: they read the new name from their next request.
    if (changed.includes('name')) await this.accounts.organisationIdentitiesChanged([organisationId]);
    return changed;
  }

  // ------------------------------------------------------------------ requested organisations

  /** Approves an organisation asked for at sign-up. Its members stay pending: a manager (once appointed) approves them. */
  async approve(actor: AuditActor, organisationId: number): Promise<void> {
    await this.uow.run(async (tx) => {
      const organisation = await this.lock(tx, organisationId);
      if (organisation.status !== 'requested') throw new Conflict(`Only a requested organisation can be approved; this one is ${ORGANISATION_STATUS_LABELS[organisation.status].toLowerCase()}`);
      await tx.getRepository(Organisation).update({ id: organisation.id }, { status: 'active' });
      const pending = await tx.getRepository(Membership).count({ where: { organisationId: organisation.id, status: 'pending' } });
      await this.audit.record(tx, actor, { action: 'organisation.approved', target: target(organisation), details: { pendingMembers: pending } });
    });
  }

  /** Declines an organisation asked for at sign-up: the memberships waiting for it are declined too. */
  async decline(actor: AuditActor, organisationId: number): Promise<number> {
    return this.uow.run(async (tx) => {
      const organisation = await this.lock(tx, organisationId);
      if (organisation.status !== 'requested') throw new Conflict(`Only a requested organisation can be declined; this one is ${ORGANISATION_STATUS_LABELS[organisation.status].toLowerCase()}`);
      const now = this.clock.now();
      await tx.getRepository(Organisation).update({ id: organisation.id }, { status: 'declined' });
      const declined = await tx.getRepository(Membership).update({ organisationId: organisation.id, status: 'pending' }, { status: 'declined', updatedAt: now, decidedById: actor.id });
      await this.audit.record(tx, actor, { action: 'organisation.declined', target: target(organisation), details: { membershipsDeclined: declined.affected ?? 0 } });
      return declined.affected ?? 0;
    });
  }

  // ------------------------------------------------------------------ merging

  /**
   * Folds a duplicate into another organisation: memberships move (a person in both keeps the one further along,
   * manager if either made them one), so do accounts naming it, its verified domains, its requirements and its ODS
   * code if the other has none. The duplicate stays, `merged`, pointing at the other, so old links still resolve.
   */
  async merge(actor: AuditActor, duplicateId: number, intoId: number): Promise<{ moved: number; combined: number; accounts: number; domains: number; requirements: number; activated: number }> {
    if (!Number.isSafeInteger(intoId) || intoId < 1) throw new ValidationFailed({ into: 'Choose the organisation to merge this one into' });
    const merged = await this.uow.run(async (tx) => {
      const locked = await this.uow.lockAllForUpdate(tx, Organisation, [{ id: duplicateId }, { id: intoId }]);
      const duplicate = locked.find((o) => o.id === duplicateId);
      const into = locked.find((o) => o.id === intoId);
      if (!duplicate) throw new NotFound(NO_SUCH_ORGANISATION);
      if (!into) throw new ValidationFailed({ into: `There is no organisation with the number ${intoId}` });
      assertMergeable(duplicate, into);
      const now = this.clock.now();
      const members = tx.getRepository(Membership);
      const theirs = await members.find({ where: { organisationId: duplicate.id } });
      let moved = 0;
      let combined = 0;
      for (const batch of chunks(theirs, 500)) {
        const existing = new Map((await members.find({ where: { organisationId: into.id, userId: In(batch.map((m) => m.userId)) } })).map((m) => [m.userId, m]));
        const alone = batch.filter((m) => !existing.has(m.userId)).map((m) => m.id);
        if (alone.length) moved += (await members.update({ id: In(alone) }, { organisationId: into.id })).affected ?? alone.length;
        for (const m of batch.filter((row) => existing.has(row.userId))) {
          await members.update({ id: existing.get(m.userId)!.id }, { ...combine(m, existing.get(m.userId)!), updatedAt: now });
          combined++;
        }
        const folded = batch.filter((m) => existing.has(m.userId)).map((m) => m.id);
        if (folded.length) await members.delete({ id: In(folded) });
      }
      const accounts = (await this.people(tx).update({ organisationId: duplicate.id }, { organisationId: into.id })).affected ?? 0;
      const domains = (await tx.getRepository(OrganisationDomain).update({ organisationId: duplicate.id }, { organisationId: into.id })).affected ?? 0;
      const requirements = (await tx.getRepository(OrganisationRequirement).update({ organisationId: duplicate.id }, { organisationId: into.id })).affected ?? 0;
      const odsCode = duplicate.odsCode && !into.odsCode ? duplicate.odsCode : null;
      await tx.getRepository(Organisation).update({ id: duplicate.id }, { status: 'merged', mergedIntoId: into.id, ...(odsCode ? { odsCode: null } : {}) });
      if (odsCode) await tx.getRepository(Organisation).update({ id: into.id }, { odsCode });
      const activated = await this.activateOnDomains(tx, into.id, actor, now);
      const outcome = { moved, combined, accounts, domains, requirements, activated };
      await this.audit.record(tx, actor, {
        action: 'organisation.merged',
        target: target(duplicate),
        details: { into: { id: into.id, name: into.name }, from: { status: duplicate.status }, ...outcome, ...(odsCode ? { odsCodeMoved: odsCode } : {}) },
      });
      this.logger.log(`Organisation ${duplicate.id} merged into ${into.id} by ${actor.id}: ${JSON.stringify(outcome)}`);
      return outcome;
    });
    // The duplicate's accounts now belong to the organisation it was merged into.
    await this.accounts.organisationIdentitiesChanged([intoId]);
    return merged;
  }

  // ------------------------------------------------------------------ verified domains

  /**
   * Adds a verified domain. It is what a domain means that people whose verified address is on it belong: their
   * pending memberships of this organisation become active now (unverified addresses still wait).
   */
  async addDomain(actor: AuditActor, organisationId: number, raw: string): Promise<{ domain: string; activated: number }> {
    const domain = normaliseDomain(String(raw ?? ''));
    if (!domain) throw new ValidationFailed({ domain: DOMAIN_MESSAGE });
    try {
      return await this.uow.run(async (tx) => {
        const organisation = await this.lock(tx, organisationId);
        if (organisation.status !== 'active') throw new Conflict('Domains can only be added to an active organisation', { domain: 'Domains can only be added to an active organisation' });
        await this.assertDomainFree(tx, domain);
        const now = this.clock.now();
        await tx.getRepository(OrganisationDomain).insert({ organisationId: organisation.id, domain, createdAt: now });
        const activated = await this.activateOnDomains(tx, organisation.id, actor, now, [domain]);
        await this.audit.record(tx, actor, { action: 'organisation.domain_added', target: target(organisation), details: { domain, membershipsActivated: activated } });
        return { domain, activated };
      });
    } catch (err) {
      // Two administrators adding one domain at once: the unique index lets one in; the other hears whose it is.
      if (isUniqueViolation(err)) await this.assertDomainFree(this.dataSource.manager, domain);
      throw err;
    }
  }

  /** Removes a verified domain. The members who joined through it stay members. */
  async removeDomain(actor: AuditActor, organisationId: number, domainId: number): Promise<string> {
    return this.uow.run(async (tx) => {
      const organisation = await this.lock(tx, organisationId);
      const row = Number.isSafeInteger(domainId) ? await tx.getRepository(OrganisationDomain).findOne({ where: { id: domainId, organisationId: organisation.id } }) : null;
      if (!row) throw new NotFound('That domain is not one of this organisation’s verified domains');
      await tx.getRepository(OrganisationDomain).delete({ id: row.id });
      await this.audit.record(tx, actor, { action: 'organisation.domain_removed', target: target(organisation), details: { domain: row.domain } });
      return row.domain;
    });
  }

  /** A domain of this organisation, for the removal confirmation page. */
  async domainOf(organisationId: number, domainId: number): Promise<{ id: number; domain: string }> {
    const row = Number.isSafeInteger(domainId) ? await this.domains.findOne({ where: { id: domainId, organisationId }, select: { id: true, domain: true } }) : null;
    if (!row) throw new NotFound('That domain is not one of this organisation’s verified domains');
    return row;
  }

  // ------------------------------------------------------------------ managers

  /**
   * Appoints the person with this address a manager. They must be an active member; one whose address is verified
   * can be made one at the same time (`addAsMember`), otherwise MembershipNeeded says what is needed. A learner
   * becomes an organisation manager (the role that shows the menu); other roles keep theirs.
   */
  async appointManager(actor: AuditActor, organisationId: number, rawEmail: string, options: { addAsMember?: boolean } = {}): Promise<{ userId: number; name: string; addedAsMember: boolean }> {
    const email = String(rawEmail ?? '').trim().toLowerCase();
    if (!email) throw new ValidationFailed({ email: 'Enter the e-mail address of the person to appoint' });
    const appointed = await this.uow.run(async (tx) => {
      const organisation = await this.lock(tx, organisationId);
      if (organisation.status !== 'active') throw new Conflict('Managers can only be appointed to an active organisation', { email: 'Managers can only be appointed to an active organisation' });
      const found = await this.people(tx).findOne({ where: { email }, select: { id: true } });
      if (!found) throw new ValidationFailed({ email: `There is no account with the e-mail address ${email}` });
      const person = (await this.uow.lockForUpdate<PersonRow>(tx, PERSON, { id: found.id }))!;
      if (person.deactivatedAt) throw new Conflict(`${person.name}’s account is deactivated`, { email: `${person.name}’s account is deactivated, so they cannot be a manager` });
      const members = tx.getRepository(Membership);
      const membership = await members.findOne({ where: { organisationId: organisation.id, userId: person.id } });
      if (membership?.status === 'active' && membership.isManager) throw new Conflict(`${person.name} is already a manager of ${organisation.name}`, { email: `${person.name} is already a manager of ${organisation.name}` });
      if (!person.emailVerifiedAt) {
        const message = `${person.name} has not verified their e-mail address yet, so they cannot be a member of an organisation. Ask them to open the link in the e-mail they were sent.`;
        throw new Conflict(message, { email: message });
      }
      const now = this.clock.now();
      const addedAsMember = membership?.status !== 'active';
      if (addedAsMember && !options.addAsMember) throw new MembershipNeeded({ id: person.id, name: person.name, email: person.email }, membership?.status ?? null);
      if (!membership) {
        await members.insert({ organisationId: organisation.id, userId: person.id, status: 'active', isManager: true, requestedAt: now, joinedAt: now, updatedAt: now, decidedById: actor.id });
      } else {
        await members.update({ id: membership.id }, { status: 'active', isManager: true, updatedAt: now, ...(addedAsMember ? { joinedAt: now, decidedById: actor.id } : {}) });
      }
      const promoted = person.role === 'learner';
      if (promoted) await this.people(tx).update({ id: person.id }, { role: 'org_manager' });
      await this.audit.record(tx, actor, {
        action: 'organisation.manager_appointed',
        target: target(organisation),
        details: { userId: person.id, name: person.name, email: person.email, addedAsMember, ...(addedAsMember && membership ? { membershipWas: membership.status } : {}), ...(promoted ? { role: { from: 'learner', to: 'org_manager' } } : {}) },
      });
      return { userId: person.id, name: person.name, addedAsMember };
    });
    // A learner appointed is an organisation manager from their next request (the menu, the manager's pages).
    await this.accounts.identitiesChanged([appointed.userId]);
    return appointed;
  }

  /**
   * Removes a manager (they stay a member). The last manager of an organisation with other active members cannot be
   * removed. Someone who then manages nothing goes back from organisation manager to learner.
   */
  async removeManager(actor: AuditActor, organisationId: number, userId: number): Promise<{ name: string; roleDropped: boolean }> {
    const removed = await this.uow.run(async (tx) => {
      const organisation = await this.lock(tx, organisationId);
      const person = Number.isSafeInteger(userId) && userId > 0 ? await this.uow.lockForUpdate<PersonRow>(tx, PERSON, { id: userId }) : null;
      const members = tx.getRepository(Membership);
      const membership = person ? await members.findOne({ where: { organisationId: organisation.id, userId: person.id, status: 'active', isManager: true } }) : null;
      if (!person || !membership) throw new NotFound('That person is not a manager of this organisation');
      const managers = await members.count({ where: { organisationId: organisation.id, status: 'active', isManager: true } });
      const staff = await members.count({ where: { organisationId: organisation.id, status: 'active', userId: Not(person.id) } });
      if (managers <= 1 && staff > 0) throw new Conflict(LAST_MANAGER_MESSAGE, { confirm: LAST_MANAGER_MESSAGE });
      await members.update({ id: membership.id }, { isManager: false, updatedAt: this.clock.now() });
      const managesOther = await members.exists({ where: { userId: person.id, status: 'active', isManager: true, id: Not(membership.id) } });
      const roleDropped = !managesOther && person.role === 'org_manager';
      if (roleDropped) await this.people(tx).update({ id: person.id }, { role: 'learner' });
      await this.audit.record(tx, actor, {
        action: 'organisation.manager_removed',
        target: target(organisation),
        details: { userId: person.id, name: person.name, email: person.email, ...(roleDropped ? { role: { from: 'org_manager', to: 'learner' } } : {}) },
      });
      return { name: person.name, roleDropped };
    });
    if (removed.roleDropped) await this.accounts.identitiesChanged([userId]);
    return removed;
  }

  /** A manager of this organisation, for the removal confirmation page. */
  async managerOf(organisationId: number, userId: number): Promise<{ userId: number; name: string; email: string }> {
    const row = Number.isSafeInteger(userId)
      ? await this.memberships
          .createQueryBuilder('m')
          .innerJoin('users', 'u', 'u.id = m.user_id')
          .select(['u.id AS userId', 'u.name AS name', 'u.email AS email'])
          .where('m.organisationId = :organisationId AND m.userId = :userId AND m.status = :active AND m.isManager = :yes', { organisationId, userId, active: 'active', yes: true })
          .getRawOne<{ userId: number | string; name: string; email: string }>()
      : null;
    if (!row) throw new NotFound('That person is not a manager of this organisation');
    return { userId: Number(row.userId), name: row.name, email: row.email };
  }

  // ------------------------------------------------------------------ helpers

  private people(tx: EntityManager = this.dataSource.manager): Repository<PersonRow> {
    return tx.getRepository<PersonRow>(PERSON);
  }

  private async find(organisationId: number): Promise<Organisation> {
    const organisation = Number.isSafeInteger(organisationId) && organisationId > 0 ? await this.organisations.findOne({ where: { id: organisationId } }) : null;
    if (!organisation) throw new NotFound(NO_SUCH_ORGANISATION);
    return organisation;
  }

  private async mergeTarget(intoId: number): Promise<Organisation> {
    if (!Number.isSafeInteger(intoId) || intoId < 1) throw new ValidationFailed({ into: 'Choose the organisation to merge this one into' });
    const into = await this.organisations.findOne({ where: { id: intoId } });
    if (!into) throw new ValidationFailed({ into: `There is no organisation with the number ${intoId}` });
    return into;
  }

  /** Locks the organisation's row first, before anything else is read in the transaction. */
  private async lock(tx: EntityManager, organisationId: number): Promise<Organisation> {
    const organisation = Number.isSafeInteger(organisationId) && organisationId > 0 ? await this.uow.lockForUpdate(tx, Organisation, { id: organisationId }) : null;
    if (!organisation) throw new NotFound(NO_SUCH_ORGANISATION);
    return organisation;
  }

  private async memberCounts(ids: number[]): Promise<Map<number, { active: number; pending: number; managers: number }>> {
    if (!ids.length) return new Map();
    const rows = await this.memberships
      .createQueryBuilder('m')
      .select('m.organisation_id', 'organisationId')
      .addSelect(`SUM(CASE WHEN m.status = 'active' THEN 1 ELSE 0 END)`, 'active')
      .addSelect(`SUM(CASE WHEN m.status = 'pending' THEN 1 ELSE 0 END)`, 'pending')
      .addSelect(`SUM(CASE WHEN m.status = 'active' AND m.is_manager = :yes THEN 1 ELSE 0 END)`, 'managers')
      .where('m.organisation_id IN (:...ids)', { ids, yes: true })
      .groupBy('m.organisation_id')
      .getRawMany<{ organisationId: number | string; active: number | string; pending: number | string; managers: number | string }>();
    return new Map(rows.map((r) => [Number(r.organisationId), { active: Number(r.active), pending: Number(r.pending), managers: Number(r.managers) }]));
  }

  private async assertUnique(tx: EntityManager, values: ReturnType<typeof validated>, ownId: number | null): Promise<void> {
    const errors: FieldErrors = {};
    const sameName = await tx.getRepository(Organisation).findOne({ where: { nameKey: values.nameKey }, select: { id: true, name: true } });
    if (sameName && sameName.id !== ownId) errors.name = `There is already an organisation called ${sameName.name}`;
    if (values.odsCode) {
      const sameCode = await tx.getRepository(Organisation).findOne({ where: { odsCode: values.odsCode }, select: { id: true, name: true } });
      if (sameCode && sameCode.id !== ownId) errors.odsCode = `The ODS code ${values.odsCode} already belongs to ${sameCode.name}`;
    }
    if (Object.keys(errors).length) throw new Conflict(Object.values(errors)[0], errors);
  }

  /** Runs a write whose unique name or ODS code another write may take first; its loser hears which. */
  private async uniquely<T>(values: ReturnType<typeof validated>, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isUniqueViolation(err)) await this.assertUnique(this.dataSource.manager, values, null);
      throw err;
    }
  }

  private async assertDomainFree(tx: EntityManager, domain: string): Promise<void> {
    const taken = await tx
      .getRepository(OrganisationDomain)
      .createQueryBuilder('d')
      .innerJoin('d.organisation', 'o')
      .select(['d.id', 'o.id', 'o.name'])
      .where('d.domain = :domain', { domain })
      .getOne();
    if (taken) {
      const message = `The domain ${domain} is already verified for ${taken.organisation!.name}. A domain belongs to one organisation: remove it there first.`;
      throw new Conflict(message, { domain: message });
    }
  }

  /**
   * Makes active the pending memberships of this organisation whose holder's verified address is on one of its
   * domains (all of them, or those given). One UPDATE per domain; returns how many changed.
   */
  private async activateOnDomains(tx: EntityManager, organisationId: number, actor: AuditActor, now: Date, only?: string[]): Promise<number> {
    const domains = only ?? (await tx.getRepository(OrganisationDomain).find({ where: { organisationId }, select: { id: true, domain: true } })).map((d) => d.domain);
    let activated = 0;
    for (const domain of domains) {
      const result = await tx
        .getRepository(Membership)
        .createQueryBuilder()
        .update()
        .set({ status: 'active', joinedAt: now, updatedAt: now, decidedById: actor.id })
        .where('organisation_id = :organisationId AND status = :pending', { organisationId, pending: 'pending' })
        .andWhere(`user_id IN (SELECT du.id FROM users du WHERE du.email LIKE :address ESCAPE '!' AND du.email_verified_at IS NOT NULL)`, { address: `%@${domain.replace(/[!%_]/g, '!$&')}` })
        .execute();
      activated += result.affected ?? 0;
    }
    return activated;
  }
}

function validated(input: OrganisationInput): { name: string; nameKey: string; type: OrganisationType; odsCode: string | null; region: Region | null } {
  const errors: FieldErrors = {};
  const name = tidyOrganisationName(String(input.name ?? ''));
  if (name.length < 2 || name.length > 150) errors.name = 'Enter the organisation’s name, 2 to 150 characters';
  const type = String(input.type ?? '');
  if (!isOrganisationType(type)) errors.type = 'Choose the type of organisation';
  const rawCode = String(input.odsCode ?? '').trim();
  const odsCode = rawCode ? normaliseOdsCode(rawCode) : null;
  if (rawCode && !odsCode) errors.odsCode = ODS_CODE_MESSAGE;
  const region = String(input.region ?? '');
  if (region && !isRegion(region)) errors.region = 'Choose a region from the list';
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { name, nameKey: organisationNameKey(name), type: type as OrganisationType, odsCode, region: region ? (region as Region) : null };
}

function assertMergeable(duplicate: Organisation, into: Organisation): void {
  if (duplicate.id === into.id) throw new ValidationFailed({ into: 'An organisation cannot be merged into itself. Choose another one.' });
  if (duplicate.status === 'merged') throw new Conflict('This organisation has already been merged into another');
  if (into.status === 'merged') throw new ValidationFailed({ into: `${into.name} has itself been merged into another organisation. Merge into that one instead.` });
  if (into.status !== 'active') throw new ValidationFailed({ into: `${into.name} is ${ORGANISATION_STATUS_LABELS[into.status].toLowerCase()}, not active. Merge into an active organisation.` });
}

/** Two memberships of one person folded into one: the further state; manager if either active one was. */
function combine(a: Membership, b: Membership): Pick<Membership, 'status' | 'isManager' | 'joinedAt' | 'requestedAt' | 'decidedById'> {
  const winner = MEMBERSHIP_RANK[a.status] > MEMBERSHIP_RANK[b.status] ? a : b;
  const active = [a, b].filter((m) => m.status === 'active');
  const earliest = (dates: Array<Date | null>) => dates.filter((d): d is Date => !!d).sort((x, y) => x.getTime() - y.getTime())[0] ?? null;
  return {
    status: winner.status,
    isManager: winner.status === 'active' && active.some((m) => m.isManager),
    joinedAt: winner.status === 'active' ? earliest(active.map((m) => m.joinedAt)) : winner.joinedAt,
    requestedAt: earliest([a.requestedAt, b.requestedAt]) ?? winner.requestedAt,
    decidedById: winner.decidedById,
  };
}

function summaryOf(o: Organisation, counts?: { active: number; pending: number; managers: number }): OrganisationSummary {
  return {
    id: o.id,
    name: o.name,
    type: o.type,
    typeLabel: ORGANISATION_TYPES[o.type] ?? o.type,
    odsCode: o.odsCode,
    region: o.region,
    regionLabel: o.region ? (REGIONS[o.region] ?? o.region) : null,
    status: o.status,
    statusLabel: ORGANISATION_STATUS_LABELS[o.status] ?? o.status,
    mergedIntoId: o.mergedIntoId,
    createdAt: o.createdAt,
    activeMembers: counts?.active ?? 0,
    pendingMembers: counts?.pending ?? 0,
    managers: counts?.managers ?? 0,
  };
}

const target = (o: { id: number; name: string }) => ({ type: 'organisation', id: o.id, label: o.name });

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
