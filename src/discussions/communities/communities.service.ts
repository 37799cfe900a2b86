import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository, type EntityManager } from 'typeorm';
import { AccountsService, type PersonCard } from '../../accounts/accounts.service';
import type { CurrentUser } from '../../accounts/identity';
import type { Role } from '../../accounts/roles';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../../common/errors';
import { slugify } from '../../common/slug';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { InAppNotifications } from '../../notifications/in-app';
import { DiscussionAccess, type SpaceAccessView, type Viewer } from '../core/discussion-access';
import { DiscussionSpaces } from '../core/discussion-spaces';
import { Follows } from '../core/follows';
import { DiscussionSpace, DiscussionSpaceMember, type SpaceAccess } from '../entities';

export const COMMUNITIES_PER_PAGE = 20;
export const MEMBERS_PER_PAGE = 50;
/** Waiting requests shown at once, oldest first: the ones to decide before the rest. */
export const REQUESTS_SHOWN = 100;
/** The longest address a community gets (the slug column's width). */
const SLUG_MAX = 120;

export const NO_SUCH_COMMUNITY = 'There is no such community';
export const TITLE_WITHOUT_LETTERS = 'The name must contain letters or digits: the community’s address is made from them';
export const addressTaken = (slug: string) => `There is already a community at /communities/${slug}: choose a different name`;
export const NOT_A_SPACE_MODERATOR = 'Only the community’s moderators can manage its members';
export const ONLY_SITE_MODERATORS_APPOINT = 'Only administrators and site moderators can appoint a community’s moderators or stand them down';
export const MODERATORS_REMOVED_BY_SITE = 'A community’s moderators can remove its members, not its other moderators: ask an administrator or a site moderator';

/** The viewer's place in a community, as pages and the API say it. */
export type MembershipState = null | 'requested' | 'member' | 'moderator';

export const membershipState = (m: Pick<DiscussionSpaceMember, 'status' | 'role'> | null | undefined): MembershipState =>
  !m ? null : m.status === 'requested' ? 'requested' : m.role === 'moderator' ? 'moderator' : 'member';

const siteModerator = (role: Role) => role === 'admin' || role === 'moderator';

export interface CommunityInput {
  title: string;
  description?: string;
  access: SpaceAccess;
}

export interface CommunityCard {
  space: DiscussionSpace;
  membership: MembershipState;
}

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
}

export type JoinOutcome = 'joined' | 'requested' | 'already_member' | 'already_requested';
export type LeaveOutcome = 'left' | 'withdrawn' | 'not_a_member';
export type MemberAction = 'approve' | 'decline' | 'remove' | 'moderator' | 'member';
export const MEMBER_ACTIONS: readonly MemberAction[] = ['approve', 'decline', 'remove', 'moderator', 'member'];
/** What a moderator's action did: done now, already so (someone else did it first), or nothing to act on (no such request or member). */
export type MemberActionOutcome = 'done' | 'unchanged' | 'gone';

/** A person on the members page. */
export interface MemberView {
  userId: number;
  name: string;
  role: Role;
  jobRole: string;
  organisationName: string | null;
  moderator: boolean;
  requestedAt: Date;
  /** When they became a member (approved, or joined an open community); null for a waiting request. */
  joinedAt: Date | null;
}

export interface MembersPage {
  space: DiscussionSpace;
  access: SpaceAccessView;
  /** Administrators and site moderators appoint the community's moderators and stand them down. */
  canAppoint: boolean;
  moderators: MemberView[];
  members: Paged<MemberView>;
  requests: { items: MemberView[]; total: number };
}

const ACTION_AUDIT: Record<MemberAction, string> = {
  approve: 'discussion.member.approved',
  decline: 'discussion.member.declined',
  remove: 'discussion.member.removed',
  moderator: 'discussion.member.moderator-appointed',
  member: 'discussion.member.moderator-removed',
};

const pagesOf = (total: number, perPage: number) => Math.max(1, Math.ceil(total / perPage));

/**
 * Communities: topic spaces that administrators create and edit (each audited), open to every signed-in member or
 * members-only. Joining an open one makes a member at once (and follows the space); joining a members-only one asks
 * its moderators, who approve or decline, and may remove members; administrators and site moderators appoint the
 * community's own moderators. Every decision locks the membership row, so two moderators deciding at once decide
 * once, with one audit entry. Who may read a community is DiscussionAccess's rule.
 */
@Injectable()
export class CommunitiesService {
  private readonly logger = new Logger('Communities');

  constructor(
    @InjectRepository(DiscussionSpace) private readonly spaces: Repository<DiscussionSpace>,
    @InjectRepository(DiscussionSpaceMember) private readonly members: Repository<DiscussionSpaceMember>,
    private readonly communities: DiscussionSpaces,
    private readonly access: DiscussionAccess,
    private readonly follows: Follows,
    private readonly accounts: AccountsService,
    private readonly audit: AuditTrail,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly notifications: InAppNotifications,
  ) {}

  // ---- Reading ---------------------------------------------------------------------------------------------

  /** Every community by title, a page at a time, with the viewer's place in each (one query for all of them). */
  async list(viewer: Viewer, page: number): Promise<Paged<CommunityCard>> {
    const total = await this.spaces.count({ where: { kind: 'community' } });
    const pages = pagesOf(total, COMMUNITIES_PER_PAGE);
    const current = Math.min(Math.max(1, page), pages);
    const rows = await this.spaces.find({
      where: { kind: 'community' },
      select: { id: true, kind: true, slug: true, title: true, description: true, access: true, threadCount: true, createdAt: true, updatedAt: true },
      order: { title: 'ASC', id: 'ASC' },
      skip: (current - 1) * COMMUNITIES_PER_PAGE,
      take: COMMUNITIES_PER_PAGE,
    });
    const mine = rows.length ? await this.members.find({ where: { spaceId: In(rows.map((r) => r.id)), userId: viewer.id }, select: { spaceId: true, status: true, role: true } }) : [];
    const bySpace = new Map(mine.map((m) => [m.spaceId, m]));
    return { items: rows.map((space) => ({ space, membership: membershipState(bySpace.get(space.id)) })), page: current, pages, total };
  }

  async get(id: number): Promise<DiscussionSpace> {
    const space = Number.isSafeInteger(id) && id > 0 ? await this.spaces.findOneBy({ id, kind: 'community' }) : null;
    if (!space) throw new NotFound(NO_SUCH_COMMUNITY);
    return space;
  }

  bySlug(slug: string): Promise<DiscussionSpace> {
    return this.communities.communityBySlug(slug);
  }

  /** The page of the list a community is on (the list is by title, then id). */
  async pageOf(space: DiscussionSpace): Promise<number> {
    const before = await this.spaces
      .createQueryBuilder('s')
      .where('s.kind = :kind', { kind: 'community' })
      .andWhere('(s.title < :title OR (s.title = :title AND s.id < :id))', { title: space.title, id: space.id })
      .getCount();
    return Math.floor(before / COMMUNITIES_PER_PAGE) + 1;
  }

  /** A person's name, for a notice about them. */
  async personName(userId: number): Promise<string | null> {
    return (await this.accounts.peopleOf([userId])).get(userId)?.name ?? null;
  }

  // ---- Administrators: create and edit ---------------------------------------------------------------------

  /** A new community at the address made from its name; an address already taken is refused on the name. */
  async create(actor: CurrentUser, input: CommunityInput): Promise<DiscussionSpace> {
    const slug = slugify(input.title, SLUG_MAX);
    if (!slug) throw new ValidationFailed({ title: TITLE_WITHOUT_LETTERS }, TITLE_WITHOUT_LETTERS);
    const taken = () => new Conflict(addressTaken(slug), { title: addressTaken(slug) }, 'community_address_taken');
    if (await this.spaces.exists({ where: { slug } })) throw taken();
    try {
      const space = await this.uow.run(async (tx) => {
        const now = this.clock.now();
        const description = input.description ? input.description : null;
        const result = await tx.getRepository(DiscussionSpace).insert({ kind: 'community', subjectId: null, parentId: null, slug, title: input.title, description, access: input.access, threadCount: 0, createdById: actor.id, createdAt: now, updatedAt: now });
        const id = Number(result.identifiers[0].id);
        await this.audit.record(tx, actor, { action: 'discussion.community.created', target: { type: 'discussion_space', id, label: input.title }, details: { slug, title: input.title, access: input.access } });
        return tx.getRepository(DiscussionSpace).findOneByOrFail({ id });
      });
      this.logger.log(`Community ${space.id} (${space.slug}) created by ${actor.id}`);
      return space;
    } catch (err) {
      // Another administrator made one at the same address a moment ago.
      if (isUniqueViolation(err)) throw taken();
      throw err;
    }
  }

  /**
   * Changes the name, description or access. The address stays what it was, so links to the community keep working.
   * Saving what is already there changes nothing and records nothing.
   */
  async update(actor: CurrentUser, id: number, input: CommunityInput): Promise<{ space: DiscussionSpace; changed: boolean }> {
    await this.get(id);
    return this.uow.run(async (tx) => {
      const space = await this.uow.lockForUpdate(tx, DiscussionSpace, { id, kind: 'community' });
      if (!space) throw new NotFound(NO_SUCH_COMMUNITY);
      const description = input.description ? input.description : null;
      const changes: Record<string, unknown> = {};
      if (space.title !== input.title) changes.title = { from: space.title, to: input.title };
      if ((space.description ?? null) !== description) changes.description = 'changed';
      if (space.access !== input.access) changes.access = { from: space.access, to: input.access };
      if (!Object.keys(changes).length) return { space, changed: false };
      await tx.getRepository(DiscussionSpace).update({ id }, { title: input.title, description, access: input.access, updatedAt: this.clock.now() });
      await this.audit.record(tx, actor, { action: 'discussion.community.edited', target: { type: 'discussion_space', id, label: input.title }, details: { slug: space.slug, ...changes } });
      return { space: await tx.getRepository(DiscussionSpace).findOneByOrFail({ id }), changed: true };
    });
  }

  // ---- Joining and leaving ---------------------------------------------------------------------------------

  /**
   * Joins an open community at once (and follows it), or asks a members-only community's moderators. Joining twice
   * is joining once, and asking twice is one request.
   */
  async join(viewer: Viewer & Pick<CurrentUser, 'name'>, slug: string): Promise<{ space: DiscussionSpace; outcome: JoinOutcome }> {
    const space = await this.bySlug(slug);
    let requestId = 0;
    const attempt = () =>
      this.uow.run(async (tx): Promise<JoinOutcome> => {
        const existing = await this.uow.lockForUpdate(tx, DiscussionSpaceMember, { spaceId: space.id, userId: viewer.id });
        if (existing?.status === 'member') return 'already_member';
        const now = this.clock.now();
        const repo = tx.getRepository(DiscussionSpaceMember);
        if (space.access === 'open') {
          // A request left from when the community was members-only becomes membership now.
          if (existing) await repo.update({ id: existing.id }, { status: 'member', decidedAt: now, decidedById: null });
          else await repo.insert({ spaceId: space.id, userId: viewer.id, status: 'member', role: 'member', requestedAt: now, decidedAt: now, decidedById: null });
          await this.follows.follow(viewer.id, { spaceId: space.id }, tx);
          return 'joined';
        }
        if (existing) return 'already_requested';
        const inserted = await repo.insert({ spaceId: space.id, userId: viewer.id, status: 'requested', role: 'member', requestedAt: now, decidedAt: null, decidedById: null });
        requestId = Number(inserted.identifiers[0].id);
        return 'requested';
      });
    let outcome: JoinOutcome;
    try {
      outcome = await attempt();
    } catch (err) {
      // The same person's other request got there first (two presses at once): the second is the first.
      if (!isUniqueViolation(err)) throw err;
      outcome = await attempt();
    }
    if (outcome === 'requested') await this.tellDeciders(space, viewer, requestId);
    return { space, outcome };
  }

  /**
   * Tells who decides a new request to join: the community's moderators, or, while it has none, the site's moderators
   * and administrators (who may decide for any community), so that no request waits unseen. One notification per
   * request and person (its dedupe key names the request). The request is kept whatever happens here: a failure is
   * logged, and the members page lists every waiting request.
   */
  private async tellDeciders(space: DiscussionSpace, asker: Viewer & Pick<CurrentUser, 'name'>, requestId: number): Promise<void> {
    try {
      const moderators = (await this.members.find({ where: { spaceId: space.id, status: 'member', role: 'moderator' }, select: { userId: true } })).map((m) => m.userId);
      const deciders = (moderators.length ? moderators : await this.accounts.activeIdsWithRoles(['moderator', 'admin'])).filter((id) => id !== asker.id);
      await this.notifications.notify(
        deciders.map((userId) => ({
          userId,
          kind: 'community-join-request' as const,
          dedupeKey: `community-join-request:${requestId}`,
          title: `${asker.name} asked to join “${space.title}”`,
          excerpt: 'Approve or decline the request on the community’s members page.',
          url: `/communities/${encodeURIComponent(space.slug!)}/members#requests`,
          actorId: asker.id,
        })),
      );
    } catch (err) {
      this.logger.warn(`Could not tell the deciders of request ${requestId} to join community ${space.id}: ${err instanceof Error ? err.message : err}`);
    }
  }

  /**
   * Leaves a community (a moderator leaving stops being one) or withdraws a waiting request, and stops following it.
   * Not being a member is success.
   */
  async leave(viewer: Viewer, slug: string): Promise<{ space: DiscussionSpace; outcome: LeaveOutcome }> {
    const space = await this.bySlug(slug);
    const outcome = await this.uow.run(async (tx): Promise<LeaveOutcome> => {
      const existing = await this.uow.lockForUpdate(tx, DiscussionSpaceMember, { spaceId: space.id, userId: viewer.id });
      if (!existing) return 'not_a_member';
      await tx.getRepository(DiscussionSpaceMember).delete({ id: existing.id });
      return existing.status === 'requested' ? 'withdrawn' : 'left';
    });
    if (outcome === 'left') await this.follows.unfollow(viewer.id, { spaceId: space.id });
    return { space, outcome };
  }

  // ---- The members page and moderators' decisions ----------------------------------------------------------

  /** 404 when the viewer may not read the community at all, 403 when they read it but do not moderate it. */
  private async requireModerator(viewer: Viewer, slug: string): Promise<SpaceAccessView> {
    const access = await this.access.requireReader(viewer, await this.bySlug(slug));
    if (!access.canModerate) throw new Forbidden(NOT_A_SPACE_MODERATOR, 'not_a_community_moderator');
    return access;
  }

  async membersPage(viewer: Viewer, slug: string, page: number): Promise<MembersPage> {
    const access = await this.requireModerator(viewer, slug);
    const { space } = access;
    const columns = { id: true, userId: true, status: true, role: true, requestedAt: true, decidedAt: true } as const;
    const [moderators, total, requests, requestCount] = await Promise.all([
      this.members.find({ where: { spaceId: space.id, status: 'member', role: 'moderator' }, select: columns, order: { requestedAt: 'ASC', id: 'ASC' } }),
      this.members.count({ where: { spaceId: space.id, status: 'member', role: 'member' } }),
      this.members.find({ where: { spaceId: space.id, status: 'requested' }, select: columns, order: { requestedAt: 'ASC', id: 'ASC' }, take: REQUESTS_SHOWN }),
      this.members.count({ where: { spaceId: space.id, status: 'requested' } }),
    ]);
    const pages = pagesOf(total, MEMBERS_PER_PAGE);
    const current = Math.min(Math.max(1, page), pages);
    const members = await this.members.find({ where: { spaceId: space.id, status: 'member', role: 'member' }, select: columns, order: { requestedAt: 'ASC', id: 'ASC' }, skip: (current - 1) * MEMBERS_PER_PAGE, take: MEMBERS_PER_PAGE });
    const people = await this.accounts.peopleOf([...moderators, ...members, ...requests].map((m) => m.userId));
    const view = (rows: DiscussionSpaceMember[]) =>
      rows.flatMap((m): MemberView[] => {
        const person = people.get(m.userId);
        if (!person) return [];
        return [{ userId: m.userId, name: person.name, role: person.role, jobRole: person.jobRole, organisationName: person.organisationName, moderator: m.role === 'moderator' && m.status === 'member', requestedAt: m.requestedAt, joinedAt: m.status === 'member' ? (m.decidedAt ?? m.requestedAt) : null }];
      });
    return {
      space,
      access,
      canAppoint: siteModerator(viewer.role),
      moderators: view(moderators),
      members: { items: view(members), page: current, pages, total },
      requests: { items: view(requests), total: requestCount },
    };
  }

  /**
   * A moderator's decision about one person: approve or decline their request, remove them, or (administrators and
   * site moderators) make a member one of the community's moderators or take that back. The membership row is locked,
   * so of two moderators deciding at once one decides and the other finds it done; each decision is audited in its
   * transaction.
   */
  async act(actor: CurrentUser, slug: string, userId: number, action: MemberAction): Promise<{ space: DiscussionSpace; person: PersonCard | null; outcome: MemberActionOutcome }> {
    const { space } = await this.requireModerator(actor, slug);
    if ((action === 'moderator' || action === 'member') && !siteModerator(actor.role)) throw new Forbidden(ONLY_SITE_MODERATORS_APPOINT, 'not_a_site_moderator');
    const person = (await this.accounts.peopleOf([userId])).get(userId) ?? null;
    if (!person) return { space, person, outcome: 'gone' };
    let unfollow = false;
    const outcome = await this.uow.run(async (tx): Promise<MemberActionOutcome> => {
      unfollow = false;
      const row = await this.uow.lockForUpdate(tx, DiscussionSpaceMember, { spaceId: space.id, userId });
      const repo = tx.getRepository(DiscussionSpaceMember);
      const now = this.clock.now();
      switch (action) {
        case 'approve':
          if (!row) return 'gone';
          if (row.status === 'member') return 'unchanged';
          await repo.update({ id: row.id }, { status: 'member', decidedAt: now, decidedById: actor.id });
          await this.follows.follow(userId, { spaceId: space.id }, tx);
          break;
        case 'decline':
          if (!row) return 'gone';
          // Another moderator approved it a moment ago: declining now would remove a member, which is not what was asked.
          if (row.status === 'member') return 'unchanged';
          await repo.delete({ id: row.id });
          break;
        case 'remove':
          if (!row || row.status !== 'member') return 'gone';
          if (row.role === 'moderator' && !siteModerator(actor.role) && userId !== actor.id) throw new Forbidden(MODERATORS_REMOVED_BY_SITE, 'not_a_site_moderator');
          await repo.delete({ id: row.id });
          unfollow = true;
          break;
        case 'moderator':
          if (!row || row.status !== 'member') return 'gone';
          if (row.role === 'moderator') return 'unchanged';
          await repo.update({ id: row.id }, { role: 'moderator', decidedById: actor.id });
          break;
        case 'member':
          if (!row || row.status !== 'member') return 'gone';
          if (row.role === 'member') return 'unchanged';
          await repo.update({ id: row.id }, { role: 'member', decidedById: actor.id });
          break;
      }
      await this.recordDecision(tx, actor, action, space, person);
      return 'done';
    });
    if (unfollow) await this.follows.unfollow(userId, { spaceId: space.id });
    return { space, person, outcome };
  }

  private recordDecision(tx: EntityManager, actor: CurrentUser, action: MemberAction, space: DiscussionSpace, person: PersonCard): Promise<void> {
    return this.audit.record(tx, actor, { action: ACTION_AUDIT[action], target: { type: 'user', id: person.id, label: person.name }, details: { community: { id: space.id, slug: space.slug, title: space.title } } });
  }
}
