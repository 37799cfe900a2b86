import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { AccountsService, type PersonCard } from '../../accounts/accounts.service';
import type { CurrentUser } from '../../accounts/identity';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { Conflict, NotFound } from '../../common/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { PostEvents } from '../core/post-events';
import { recountThread } from '../core/thread-counts';
import { DiscussionPost, DiscussionReport, DiscussionSpace, DiscussionSuspension, DiscussionThread, type PostStatus, type ReportReason, type ReportStatus, type SpaceKind } from '../entities';
import { ThreadsService } from '../threads/threads.service';
import { NO_SUCH_POST, PostContexts, type ModerationScope, type PostContext } from './post-context';

/** Entries per page of each of the queue's lists. */
export const QUEUE_PAGE_SIZE = 25;
/** How much of a post the queue shows. */
export const EXCERPT_CHARS = 200;
/** How many of the author's earlier hidden posts the post page lists. */
export const HISTORY_POSTS = 10;

export const ALREADY_HIDDEN = 'This post has already been hidden. Nothing was changed.';
export const NOT_HIDDEN = 'This post is not hidden, so there is nothing to restore. Nothing was changed.';
export const NOT_HELD = 'This post is not waiting for approval. Nothing was changed.';
export const DELETED_BY_AUTHOR = 'Its author has deleted this post. Nothing was changed.';
export const NO_OPEN_REPORTS = 'This post has no open reports to dismiss. Nothing was changed.';

type Raw = Record<string, unknown>;
/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: unknown): Date => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? String(value) : `${String(value).replace(' ', 'T')}Z`));

export const excerptOf = (body: string) => {
  const flat = body.replace(/\s+/g, ' ').trim();
  return [...flat].length > EXCERPT_CHARS ? `${[...flat].slice(0, EXCERPT_CHARS - 1).join('').trimEnd()}…` : flat;
};

export interface QueuePost {
  postId: number;
  threadId: number;
  threadTitle: string;
  spaceId: number;
  spaceTitle: string;
  spaceKind: SpaceKind;
  isOpening: boolean;
  status: PostStatus;
  excerpt: string;
  author: PersonCard | null;
  createdAt: Date;
}

export interface ReportedEntry extends QueuePost {
  reportCount: number;
  reasons: Array<{ reason: ReportReason; count: number }>;
  firstReportedAt: Date;
}

export interface HeldEntry extends QueuePost {
  heldReason: string | null;
}

export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  pages: number;
}

export interface QueuePage {
  scope: ModerationScope;
  reported: Paged<ReportedEntry>;
  held: Paged<HeldEntry>;
}

export interface ReportView {
  id: number;
  reason: ReportReason;
  details: string;
  status: ReportStatus;
  reporter: PersonCard | null;
  createdAt: Date;
  decidedBy: PersonCard | null;
  decidedAt: Date | null;
}

export interface PostPage extends PostContext {
  author: PersonCard | null;
  reports: ReportView[];
  openReports: number;
  /** The author's other posts moderators hid, newest first, and how many there are. */
  history: { hidden: Array<{ postId: number; threadId: number; threadTitle: string; reason: string | null; createdAt: Date }>; hiddenTotal: number; upheldReports: number };
  suspensions: Array<DiscussionSuspension & { active: boolean; suspendedBy: PersonCard | null }>;
  activeSuspension: DiscussionSuspension | null;
}

export type PostDecision = 'hidden' | 'restored' | 'approved';

/**
 * The moderators' side of discussions: the queue of reported and held posts, a post in its context, and the
 * decisions on it. Each decision takes the post's row lock and happens only from the status it changes, so two
 * moderators deciding at once (or a form sent twice) change it once, with one audit entry; the status, the thread's
 * counts, the reports and the audit entry change in one transaction, and open pages hear of it after it commits.
 */
@Injectable()
export class DiscussionModeration {
  private readonly logger = new Logger('DiscussionModeration');

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly accounts: AccountsService,
    private readonly contexts: PostContexts,
    private readonly events: PostEvents,
    private readonly threads: ThreadsService,
    @InjectRepository(DiscussionReport) private readonly reports: Repository<DiscussionReport>,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    @InjectRepository(DiscussionSuspension) private readonly suspensions: Repository<DiscussionSuspension>,
  ) {}

  // ---- The queue ----------------------------------------------------------------------------------------

  /** Reported posts (oldest report first) and held posts (oldest first), each paged; a page past the last shows the last. */
  async queue(viewer: CurrentUser, reportedPage: number, heldPage: number): Promise<QueuePage> {
    const scope = await this.contexts.requireModerator(viewer);
    const [reported, held] = await Promise.all([this.reported(scope, reportedPage), this.held(scope, heldPage)]);
    const people = await this.accounts.peopleOf([...reported.items, ...held.items].map((e) => e.author?.id).filter((id): id is number => id !== undefined));
    const withAuthor = <T extends QueuePost>(e: T): T => ({ ...e, author: e.author ? (people.get(e.author.id) ?? null) : null });
    return { scope, reported: { ...reported, items: reported.items.map(withAuthor) }, held: { ...held, items: held.items.map(withAuthor) } };
  }

  /** Posts with open reports, in the scope: the reports joined to their posts' threads (for the scope's spaces). */
  private openReports(scope: ModerationScope) {
    const qb = this.db
      .createQueryBuilder()
      .from('discussion_reports', 'r')
      .innerJoin('discussion_posts', 'p', 'p.id = r.post_id')
      .innerJoin('discussion_threads', 't', 't.id = p.thread_id')
      .where('r.status = :open', { open: 'open' });
    if (!scope.all) qb.andWhere('t.space_id IN (:...spaceIds)', { spaceIds: scope.spaceIds });
    return qb;
  }

  private async reported(scope: ModerationScope, requestedPage: number): Promise<Paged<ReportedEntry>> {
    const counted = await this.openReports(scope).select('COUNT(DISTINCT r.post_id)', 'total').getRawOne<Raw>();
    const total = Number(counted?.total ?? 0);
    const pages = Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE));
    const page = Math.min(Math.max(1, requestedPage), pages);
    if (!total) return { items: [], total, page, pages };
    const rows = await this.openReports(scope)
      .select(['r.post_id AS postId', 'COUNT(*) AS reportCount', 'MIN(r.created_at) AS firstReportedAt'])
      .groupBy('r.post_id')
      .orderBy('MIN(r.created_at)', 'ASC')
      .addOrderBy('r.post_id', 'ASC')
      .offset((page - 1) * QUEUE_PAGE_SIZE)
      .limit(QUEUE_PAGE_SIZE)
      .getRawMany<Raw>();
    const postIds = rows.map((r) => Number(r.postId));
    const [posts, reasons] = await Promise.all([
      this.queuePosts(postIds),
      this.reports
        .createQueryBuilder('r')
        .select(['r.postId AS postId', 'r.reason AS reason', 'COUNT(*) AS count'])
        .where({ postId: In(postIds), status: 'open' })
        .groupBy('r.postId')
        .addGroupBy('r.reason')
        .getRawMany<Raw>(),
    ]);
    const items = rows.flatMap((r) => {
      const post = posts.get(Number(r.postId));
      if (!post) return [];
      const mine = reasons.filter((x) => Number(x.postId) === post.postId).map((x) => ({ reason: x.reason as ReportReason, count: Number(x.count) }));
      mine.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
      return [{ ...post, reportCount: Number(r.reportCount), reasons: mine, firstReportedAt: asDate(r.firstReportedAt) }];
    });
    return { items, total, page, pages };
  }

  private async held(scope: ModerationScope, requestedPage: number): Promise<Paged<HeldEntry>> {
    const base = () => {
      const qb = this.posts.createQueryBuilder('p').innerJoin(DiscussionThread, 't', 't.id = p.threadId').where('p.status = :held', { held: 'held' });
      if (!scope.all) qb.andWhere('t.spaceId IN (:...spaceIds)', { spaceIds: scope.spaceIds });
      return qb;
    };
    const total = await base().getCount();
    const pages = Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE));
    const page = Math.min(Math.max(1, requestedPage), pages);
    if (!total) return { items: [], total, page, pages };
    const ids = await base()
      .select(['p.id'])
      .orderBy('p.createdAt', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .offset((page - 1) * QUEUE_PAGE_SIZE)
      .limit(QUEUE_PAGE_SIZE)
      .getMany();
    const posts = await this.queuePosts(ids.map((p) => p.id));
    const items = ids.flatMap((p) => {
      const post = posts.get(p.id);
      return post ? [{ ...post, heldReason: post.statusReason }] : [];
    });
    return { items, total, page, pages };
  }

  /** The posts with their threads' titles and spaces, by id (three queries whatever their number); authors filled in later. */
  private async queuePosts(postIds: number[]): Promise<Map<number, QueuePost & { statusReason: string | null }>> {
    if (!postIds.length) return new Map();
    const posts = await this.posts.find({
      where: { id: In(postIds) },
      select: { id: true, threadId: true, authorId: true, isOpening: true, status: true, statusReason: true, body: true, createdAt: true },
    });
    const threads = await this.db.getRepository(DiscussionThread).find({ where: { id: In([...new Set(posts.map((p) => p.threadId))]) }, select: { id: true, title: true, spaceId: true } });
    const spaces = await this.db.getRepository(DiscussionSpace).find({ where: { id: In([...new Set(threads.map((t) => t.spaceId))]) }, select: { id: true, title: true, kind: true } });
    const threadById = new Map(threads.map((t) => [t.id, t]));
    const spaceById = new Map(spaces.map((s) => [s.id, s]));
    return new Map(
      posts.map((p) => {
        const thread = threadById.get(p.threadId)!;
        const space = spaceById.get(thread.spaceId)!;
        return [
          p.id,
          {
            postId: p.id,
            threadId: p.threadId,
            threadTitle: thread.title,
            spaceId: space.id,
            spaceTitle: space.title,
            spaceKind: space.kind,
            isOpening: p.isOpening,
            status: p.status,
            statusReason: p.statusReason,
            excerpt: excerptOf(p.body),
            author: p.authorId === null ? null : ({ id: p.authorId } as PersonCard),
            createdAt: p.createdAt,
          },
        ];
      }),
    );
  }

  // ---- One post -----------------------------------------------------------------------------------------

  /** The post as a moderator reviews it: its thread and space, its author, its reports, and the author's history. */
  async postPage(viewer: CurrentUser, postId: number): Promise<PostPage> {
    const context = await this.contexts.moderated(viewer, postId);
    const { post } = context;
    const [reports, hidden, hiddenTotal, upheldReports, suspensions] = await Promise.all([
      this.reports.find({ where: { postId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      post.authorId === null
        ? Promise.resolve([])
        : this.posts.find({ where: { authorId: post.authorId, status: 'hidden' }, select: { id: true, threadId: true, statusReason: true, createdAt: true }, order: { createdAt: 'DESC', id: 'DESC' }, take: HISTORY_POSTS + 1 }),
      post.authorId === null ? Promise.resolve(0) : this.posts.count({ where: { authorId: post.authorId, status: 'hidden' } }),
      post.authorId === null
        ? Promise.resolve(0)
        : this.reports.createQueryBuilder('r').innerJoin(DiscussionPost, 'p', 'p.id = r.postId').where('p.authorId = :authorId AND r.status = :upheld', { authorId: post.authorId, upheld: 'upheld' }).getCount(),
      post.authorId === null ? Promise.resolve([]) : this.suspensions.find({ where: { userId: post.authorId }, order: { startsAt: 'DESC', id: 'DESC' } }),
    ]);
    const others = hidden.filter((h) => h.id !== post.id).slice(0, HISTORY_POSTS);
    const threadTitles = others.length ? await this.db.getRepository(DiscussionThread).find({ where: { id: In([...new Set(others.map((h) => h.threadId))]) }, select: { id: true, title: true } }) : [];
    const people = await this.accounts.peopleOf(
      [post.authorId, ...reports.flatMap((r) => [r.reporterId, r.decidedById]), ...suspensions.map((s) => s.suspendedById)].filter((id): id is number => id !== null),
    );
    const person = (id: number | null) => (id === null ? null : (people.get(id) ?? null));
    const now = this.clock.now();
    const withActive = suspensions.map((s) => ({ ...s, active: isActive(s, now), suspendedBy: person(s.suspendedById) }));
    return {
      ...context,
      author: person(post.authorId),
      reports: reports.map((r) => ({ id: r.id, reason: r.reason, details: r.details, status: r.status, reporter: person(r.reporterId), createdAt: r.createdAt, decidedBy: person(r.decidedById), decidedAt: r.decidedAt })),
      openReports: reports.filter((r) => r.status === 'open').length,
      history: {
        hidden: others.map((h) => ({ postId: h.id, threadId: h.threadId, threadTitle: threadTitles.find((t) => t.id === h.threadId)?.title ?? '', reason: h.statusReason, createdAt: h.createdAt })),
        hiddenTotal: hiddenTotal - (post.status === 'hidden' ? 1 : 0),
        upheldReports,
      },
      suspensions: withActive,
      activeSuspension: withActive.find((s) => s.active) ?? null,
    };
  }

  // ---- Decisions ----------------------------------------------------------------------------------------

  /** Takes a visible or held post down, with the reason its author is told; its open reports are upheld. */
  hide(moderator: CurrentUser, postId: number, reason: string) {
    return this.decide(moderator, postId, 'hidden', reason);
  }

  /** Puts a hidden post back (its reports stay as they were decided). */
  restore(moderator: CurrentUser, postId: number) {
    return this.decide(moderator, postId, 'restored', null);
  }

  /** Lets a held post (a new or unverified account's) be seen: its followers and mentioned people are told now. */
  approve(moderator: CurrentUser, postId: number) {
    return this.decide(moderator, postId, 'approved', null);
  }

  private async decide(moderator: CurrentUser, postId: number, decision: PostDecision, reason: string | null): Promise<{ post: DiscussionPost; thread: DiscussionThread }> {
    const { thread, space } = await this.contexts.moderated(moderator, postId);
    const outcome = await this.uow.run(async (tx) => {
      const post = await this.uow.lockForUpdate(tx, DiscussionPost, { id: postId });
      if (!post) throw new NotFound(NO_SUCH_POST);
      refuseUnlessDecidable(post.status, decision);
      const now = this.clock.now();
      const status: PostStatus = decision === 'hidden' ? 'hidden' : 'visible';
      await tx.getRepository(DiscussionPost).update({ id: post.id }, { status, statusReason: reason, updatedAt: now });
      // A thread's status follows its opening post's.
      if (post.isOpening) await tx.getRepository(DiscussionThread).update({ id: post.threadId }, { status, updatedAt: now });
      // A hidden answer is no longer the thread's accepted one (as when its author deletes it): the thread is not
      // shown as answered by it, and it stays in the replies as the placeholder. The asker may accept it again once restored.
      if (decision === 'hidden') await tx.getRepository(DiscussionThread).update({ id: post.threadId, acceptedPostId: post.id }, { acceptedPostId: null });
      const upheld = decision === 'hidden' ? await this.closeOpenReports(tx, post.id, 'upheld', moderator.id, now) : 0;
      await recountThread(tx, post.threadId);
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        {
          action: `discussion.post.${decision}`,
          target: { type: 'discussion_post', id: post.id, label: thread.title },
          details: { threadId: post.threadId, spaceId: space.id, opening: post.isOpening, authorId: post.authorId, previousStatus: post.status, ...(reason ? { reason } : {}), ...(decision === 'hidden' ? { reportsUpheld: upheld } : {}) },
        },
      );
      return { post: { ...post, status, statusReason: reason }, firstVisible: status === 'visible' && post.fannedOutAt === null };
    });
    const { post } = outcome;
    // A post seen for the first time (approved, or restored having been hidden before anyone was told of it) is
    // fanned out to its followers; any other change is only news to the pages open on the thread.
    if (outcome.firstVisible) await this.events.published({ id: post.id, threadId: post.threadId });
    else await this.events.changed({ type: post.isOpening ? 'thread-changed' : 'post-changed', threadId: post.threadId, postId: post.id });
    this.logger.log(`Discussion post ${post.id} ${decision} by ${moderator.id}`);
    return { post, thread };
  }

  /** Dismisses the post's open reports: the post stays as it is. */
  async dismissReports(moderator: CurrentUser, postId: number): Promise<{ dismissed: number }> {
    const { thread, space } = await this.contexts.moderated(moderator, postId);
    const dismissed = await this.uow.run(async (tx) => {
      const post = await this.uow.lockForUpdate(tx, DiscussionPost, { id: postId });
      if (!post) throw new NotFound(NO_SUCH_POST);
      const count = await this.closeOpenReports(tx, post.id, 'dismissed', moderator.id, this.clock.now());
      if (!count) throw new Conflict(NO_OPEN_REPORTS, {}, 'no_open_reports');
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        { action: 'discussion.reports.dismissed', target: { type: 'discussion_post', id: post.id, label: thread.title }, details: { threadId: post.threadId, spaceId: space.id, authorId: post.authorId, dismissed: count } },
      );
      return count;
    });
    this.logger.log(`${dismissed} report(s) of discussion post ${postId} dismissed by ${moderator.id}`);
    return { dismissed };
  }

  /** Locks or unlocks the post's thread, through the threads part (its rule, its audit entry, its live message). */
  async setLocked(moderator: CurrentUser, postId: number, locked: boolean): Promise<{ changed: boolean }> {
    const { thread } = await this.contexts.moderated(moderator, postId);
    const { changed } = await this.threads.setLocked(moderator, thread.id, locked);
    return { changed };
  }

  private async closeOpenReports(tx: EntityManager, postId: number, status: 'upheld' | 'dismissed', moderatorId: number, at: Date): Promise<number> {
    const result = await tx.getRepository(DiscussionReport).update({ postId, status: 'open' }, { status, decidedById: moderatorId, decidedAt: at });
    return result.affected ?? 0;
  }
}

function refuseUnlessDecidable(status: PostStatus, decision: PostDecision): void {
  if (status === 'deleted') throw new Conflict(DELETED_BY_AUTHOR, {}, 'post_deleted');
  if (decision === 'hidden' && status === 'hidden') throw new Conflict(ALREADY_HIDDEN, {}, 'already_hidden');
  if (decision === 'restored' && status !== 'hidden') throw new Conflict(NOT_HIDDEN, {}, 'not_hidden');
  if (decision === 'approved' && status !== 'held') throw new Conflict(NOT_HELD, {}, 'not_held');
}

/** In force now: started, not ended, not lifted. */
export const isActive = (s: Pick<DiscussionSuspension, 'startsAt' | 'endsAt' | 'liftedAt'>, now: Date) => s.liftedAt === null && s.startsAt.getTime() <= now.getTime() && now.getTime() < s.endsAt.getTime();
