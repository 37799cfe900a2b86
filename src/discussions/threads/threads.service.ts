import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, In, IsNull, LessThanOrEqual, MoreThan, Not, Repository, type SelectQueryBuilder } from 'typeorm';
import { AccountsService, type PersonCard } from '../../accounts/accounts.service';
import type { CurrentUser } from '../../accounts/identity';
import { ROLE_LABELS, type Role } from '../../accounts/roles';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { TtlCache } from '../../common/ttl-cache';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../../common/errors';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { DiscussionAccess, NO_SUCH_DISCUSSION, type SpaceAccessView } from '../core/discussion-access';
import { DiscussionSpaces } from '../core/discussion-spaces';
import { Follows } from '../core/follows';
import { PostEvents } from '../core/post-events';
import { PostingStanding } from '../core/posting-standing';
import { recountThread } from '../core/thread-counts';
import { DiscussionFollow, DiscussionMention, DiscussionPost, DiscussionSpace, DiscussionSpaceMember, DiscussionSuspension, DiscussionThread, DiscussionVote, type PostStatus, type ThreadKind } from '../entities';
import { ConductNotAccepted, Conduct } from './conduct';
import { excerpt, handleOf, mentionedIds, plainText, renderPostHtml, renderPostMarkdown } from './post-body';
import {
  BODY_MAX_LENGTH,
  checkPostInput,
  checkThreadInput,
  NEW_ACCOUNT_MS,
  NOT_YOUR_POST,
  POSTING_WINDOW_MS,
  POSTS_PER_WINDOW,
  PostingSuspended,
  PostingTooFast,
  REPLIES_PER_PAGE,
  ThreadClosed,
  ThreadLocked,
  THREADS_PER_PAGE,
  type HeldReason,
} from './posting-rules';

/** A post's body as stored: its HTML with mentions resolved, its words, and whom it names who can read it. */
interface RenderedBody {
  bodyHtml: string;
  plain: string;
  title: string | null;
  searchText: string;
  mentioned: number[];
}

/** Who is acting: the signed-in person (CurrentUser has more; these are what the rules need). */
export type Actor = Pick<CurrentUser, 'id' | 'role' | 'name'>;

/** What a thread page shows of a post: not its Markdown source nor its search text, the two largest columns. */
const SHOWN_POST_COLUMNS = ['id', 'threadId', 'authorId', 'isOpening', 'bodyHtml', 'quotedPostId', 'status', 'statusReason', 'helpfulCount', 'editedAt', 'createdAt'] as const;

/** A person as a post, a thread list or the participants list shows them. */
export interface PersonView {
  id: number;
  name: string;
  roleLabel: string;
  organisationName: string | null;
  handle: string;
}

export interface ThreadSummary {
  id: number;
  kind: ThreadKind;
  title: string;
  status: PostStatus;
  pinned: boolean;
  locked: boolean;
  answered: boolean;
  replyCount: number;
  lastActivityAt: Date;
  createdAt: Date;
  author: PersonView | null;
  href: string;
}

/** A post as one viewer sees it: a placeholder (bodyHtml null) where it was deleted, or hidden from this viewer. */
export interface PostView {
  id: number;
  threadId: number;
  isOpening: boolean;
  status: PostStatus;
  /** The rendered body; null when the viewer sees only the placeholder. */
  bodyHtml: string | null;
  /** What the viewer is told in place of (or beside) the body: "This post was deleted by its author", "Waiting for a moderator"… */
  placeholder: string | null;
  /** A moderator's reason for hiding, or why a post is held: for moderators and the post's author only. */
  statusReason: string | null;
  author: PersonView | null;
  createdAt: Date;
  editedAt: Date | null;
  helpfulCount: number;
  votedHelpful: boolean;
  mine: boolean;
  accepted: boolean;
  quoted: { id: number; authorName: string; excerpt: string | null; href: string } | null;
  canVote: boolean;
  canEdit: boolean;
  canDelete: boolean;
  canAccept: boolean;
}

export type CannotReplyReason = 'locked' | 'suspended' | 'conduct' | 'closed';

export interface ThreadPageData {
  thread: DiscussionThread;
  access: SpaceAccessView;
  opening: PostView | null;
  accepted: PostView | null;
  replies: PostView[];
  page: number;
  pages: number;
  /** Replies this viewer sees in the paged list (placeholders included; the accepted answer is shown above it). */
  totalReplies: number;
  participants: PersonView[];
  following: boolean;
  isAsker: boolean;
  canReply: { allowed: boolean; reason: CannotReplyReason | null; message: string | null };
}

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
}

const isSiteModerator = (role: Role) => role === 'admin' || role === 'moderator';
export const threadHref = (threadId: number, page?: number) => `/discussions/threads/${threadId}${page && page > 1 ? `?page=${page}` : ''}`;

const DELETED_PLACEHOLDER = 'This post was deleted by its author';
const HIDDEN_PLACEHOLDER = 'This post was hidden by a moderator.';
const HELD_NOTICE = 'Waiting for a moderator';

/**
 * Threads and posts: who sees what, and the posting rules. Every write runs in one transaction with the checks it
 * depends on, so a refused post writes nothing; notifications and live messages go out after the commit.
 *
 * Posting, in order: the viewer can read the thread (else 404); accepted the code of conduct; is not suspended; the
 * thread is not locked (moderators may still reply); the person posted fewer than POSTS_PER_WINDOW times in the
 * window (moderators are not limited). One person's posts are written one at a time (their acceptance row is locked),
 * so two at once cannot both slip under the limit. A new or unverified account's post is held for a moderator.
 */
@Injectable()
export class ThreadsService {
  constructor(
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly access: DiscussionAccess,
    private readonly spaces: DiscussionSpaces,
    private readonly follows: Follows,
    private readonly events: PostEvents,
    private readonly accounts: AccountsService,
    private readonly audit: AuditTrail,
    private readonly conduct: Conduct,
    private readonly standing: PostingStanding,
  ) {}

  // ---- Reading ------------------------------------------------------------------------------------------------

  /** The space, if the viewer may read it (404 otherwise). */
  async readableSpace(viewer: Actor, spaceId: number): Promise<SpaceAccessView> {
    return this.access.requireReader(viewer, await this.spaces.byId(spaceId));
  }

  /** The thread, if the viewer may read it: its space readable, and a held or hidden thread only its author's or a moderator's. */
  async readableThread(viewer: Actor, threadId: number): Promise<{ thread: DiscussionThread; access: SpaceAccessView }> {
    const { thread, access } = await this.readableThreadRead(viewer, threadId, false);
    return { thread, access };
  }

  /**
   * readableThread in one query: the thread, its space and the viewer's membership of the space read together (and,
   * for the thread page, whether the viewer follows the thread), rather than one query for each.
   */
  private async readableThreadRead(viewer: Actor, threadId: number, withFollow: boolean): Promise<{ thread: DiscussionThread; access: SpaceAccessView; following: boolean }> {
    if (!Number.isSafeInteger(threadId) || threadId < 1) throw new NotFound(NO_SUCH_DISCUSSION);
    const query = this.threads
      .createQueryBuilder('t')
      .innerJoinAndMapOne('t.readSpace', DiscussionSpace, 's', 's.id = t.spaceId')
      .leftJoinAndMapOne('t.readMembership', DiscussionSpaceMember, 'm', 'm.spaceId = t.spaceId AND m.userId = :viewerId', { viewerId: viewer.id })
      .where('t.id = :threadId', { threadId });
    if (withFollow) query.leftJoinAndMapOne('t.readFollow', DiscussionFollow, 'f', 'f.threadId = t.id AND f.userId = :viewerId');
    const read = (await query.getOne()) as (DiscussionThread & { readSpace?: DiscussionSpace; readMembership?: DiscussionSpaceMember | null; readFollow?: DiscussionFollow | null }) | null;
    if (!read?.readSpace) throw new NotFound(NO_SUCH_DISCUSSION);
    const { readSpace: space, readMembership, readFollow, ...columns } = read;
    // The thread as the other reads return it: its own columns only.
    const thread = Object.assign(new DiscussionThread(), columns);
    const access = await this.access.requireReader(viewer, space, { membership: readMembership ?? null });
    if (!threadVisibleTo(thread, viewer, access)) throw new NotFound(NO_SUCH_DISCUSSION);
    return { thread, access, following: !!readFollow };
  }

  /** The post and its thread, if the viewer may read the thread and see that the post is there (held posts: author and moderators). */
  async readablePost(viewer: Actor, postId: number): Promise<{ post: DiscussionPost; thread: DiscussionThread; access: SpaceAccessView }> {
    const post = Number.isSafeInteger(postId) && postId > 0 ? await this.posts.findOneBy({ id: postId }) : null;
    if (!post) throw new NotFound(NO_SUCH_DISCUSSION);
    const { thread, access } = await this.readableThread(viewer, post.threadId);
    if (post.status === 'held' && post.authorId !== viewer.id && !access.canModerate) throw new NotFound(NO_SUCH_DISCUSSION);
    return { post, thread, access };
  }

  /** A space's threads, THREADS_PER_PAGE a page: pinned first, then the newest activity. Held and hidden ones only to their author and moderators. */
  async listThreads(viewer: Actor, spaceId: number, page: number): Promise<{ access: SpaceAccessView; following: boolean } & Paged<ThreadSummary>> {
    const access = await this.readableSpace(viewer, spaceId);
    const query = this.threads.createQueryBuilder('t').where('t.spaceId = :spaceId', { spaceId });
    if (access.canModerate) query.andWhere("t.status <> 'deleted'");
    else query.andWhere(new Brackets((w) => w.where("t.status = 'visible'").orWhere("t.status IN ('held', 'hidden') AND t.authorId = :me", { me: viewer.id })));
    const [total, following] = await Promise.all([query.clone().getCount(), this.follows.isFollowing(viewer.id, { spaceId })]);
    const pages = Math.max(1, Math.ceil(total / THREADS_PER_PAGE));
    const current = Math.min(Math.max(1, page), pages);
    const rows = await query
      .select(['t.id', 't.kind', 't.title', 't.status', 't.pinned', 't.locked', 't.acceptedPostId', 't.replyCount', 't.lastActivityAt', 't.createdAt', 't.authorId'])
      .orderBy('t.pinned', 'DESC')
      .addOrderBy('t.lastActivityAt', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .skip((current - 1) * THREADS_PER_PAGE)
      .take(THREADS_PER_PAGE)
      .getMany();
    const people = await this.people(rows.map((t) => t.authorId));
    const items = rows.map((t) => ({
      id: t.id,
      kind: t.kind,
      title: t.title,
      status: t.status,
      pinned: Boolean(t.pinned),
      locked: Boolean(t.locked),
      answered: t.kind === 'question' && t.acceptedPostId !== null,
      replyCount: Number(t.replyCount),
      lastActivityAt: t.lastActivityAt,
      createdAt: t.createdAt,
      author: t.authorId === null ? null : (people.get(t.authorId) ?? null),
      href: threadHref(t.id),
    }));
    return { access, following, items, page: current, pages, total };
  }

  /**
   * A thread page: its opening post and accepted answer (on every page), REPLIES_PER_PAGE replies oldest first
   * (placeholders for deleted and hidden ones; held ones to their author and moderators), who takes part, and
   * whether the viewer follows it and may reply.
   */
  async threadPage(viewer: Actor, threadId: number, page: number): Promise<ThreadPageData> {
    const { thread, access, following } = await this.readableThreadRead(viewer, threadId, true);
    const topIds = [thread.openingPostId, thread.acceptedPostId].filter((id): id is number => id !== null);
    const [pageRead, topRead, participantIds, canReply] = await Promise.all([
      this.repliesPage(thread, viewer, access, Math.max(1, page)),
      topIds.length ? this.shownPosts(this.posts.createQueryBuilder('p').where('p.id IN (:...topIds)', { topIds }), viewer) : Promise.resolve({ rows: [], voted: new Set<number>(), total: 0 }),
      this.participantIdsOf(thread),
      this.replyPermission(viewer, thread, access),
    ]);
    const { rows: pageRows, total, page: current } = pageRead;
    const pages = Math.max(1, Math.ceil(total / REPLIES_PER_PAGE));
    const openingRow = topRead.rows.find((p) => p.id === thread.openingPostId) ?? null;
    const acceptedRow = topRead.rows.find((p) => p.id === thread.acceptedPostId && p.status === 'visible') ?? null;
    const shown = [openingRow, acceptedRow, ...pageRows].filter((p): p is DiscussionPost => p !== null);
    const quotedIds = [...new Set(shown.map((p) => p.quotedPostId).filter((id): id is number => id !== null))];
    const quotedRows = quotedIds.length ? await this.posts.find({ where: { id: In(quotedIds), threadId: thread.id }, select: { id: true, authorId: true, status: true, bodyHtml: true, isOpening: true, createdAt: true } }) : [];
    const people = await this.people([...shown.map((p) => p.authorId), ...quotedRows.map((p) => p.authorId), ...participantIds]);
    const quotedPages = await this.pagesOf(thread, viewer, access, quotedRows.filter((q) => !q.isOpening && q.id !== thread.acceptedPostId));
    const voted = new Set([...topRead.voted, ...pageRead.voted]);
    const isAsker = thread.authorId === viewer.id;
    const view = (p: DiscussionPost): PostView => {
      const mine = p.authorId === viewer.id;
      const seesBody = p.status === 'visible' || (p.status === 'held' && (mine || access.canModerate)) || (p.status === 'hidden' && (mine || access.canModerate));
      const quotedRow = p.quotedPostId === null ? undefined : quotedRows.find((q) => q.id === p.quotedPostId);
      const quotedPage = quotedRow ? quotedPages.get(quotedRow.id) : undefined;
      const open = !thread.locked || access.canModerate;
      return {
        id: p.id,
        threadId: p.threadId,
        isOpening: p.isOpening,
        status: p.status,
        bodyHtml: seesBody ? p.bodyHtml : null,
        placeholder: p.status === 'deleted' ? DELETED_PLACEHOLDER : p.status === 'hidden' ? HIDDEN_PLACEHOLDER : p.status === 'held' ? HELD_NOTICE : null,
        statusReason: (p.status === 'hidden' || p.status === 'held') && (mine || access.canModerate) ? p.statusReason : null,
        author: p.authorId === null ? null : (people.get(p.authorId) ?? null),
        createdAt: p.createdAt,
        editedAt: p.editedAt,
        helpfulCount: Number(p.helpfulCount),
        votedHelpful: voted.has(p.id),
        mine,
        accepted: p.id === thread.acceptedPostId,
        quoted:
          p.quotedPostId === null || p.status === 'deleted' || !seesBody
            ? null
            : {
                id: p.quotedPostId,
                authorName: (quotedRow?.authorId != null ? people.get(quotedRow.authorId)?.name : undefined) ?? 'A former member',
                excerpt: quotedRow && quotedRow.status === 'visible' ? excerpt(quotedRow.bodyHtml) : null,
                href: quotedPage === undefined ? `#post-${p.quotedPostId}` : quotedPage === current ? `#post-${p.quotedPostId}` : `${threadHref(thread.id, quotedPage)}#post-${p.quotedPostId}`,
              },
        canVote: p.status === 'visible' && !mine && p.authorId !== null,
        canEdit: mine && open && p.status !== 'deleted' && p.status !== 'hidden',
        canDelete: mine && p.status !== 'deleted',
        canAccept: thread.kind === 'question' && !p.isOpening && p.status === 'visible' && p.id !== thread.acceptedPostId && (isAsker || access.canModerate),
      };
    };
    const participants = participantIds
      .map((id) => people.get(id))
      .filter((p): p is PersonView => p !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
    return {
      thread,
      access,
      opening: openingRow ? view(openingRow) : null,
      accepted: acceptedRow ? view(acceptedRow) : null,
      replies: pageRows.map(view),
      page: current,
      pages,
      totalReplies: total,
      participants,
      following,
      isAsker,
      canReply,
    };
  }

  /** Whether the viewer may reply now, and if not why (in words for the page). Rate limits are only known when posting. */
  async replyPermission(viewer: Actor, thread: DiscussionThread, access: SpaceAccessView): Promise<ThreadPageData['canReply']> {
    if (thread.locked && !access.canModerate) return { allowed: false, reason: 'locked', message: new ThreadLocked().message };
    if (thread.status !== 'visible' && !access.canModerate) return { allowed: false, reason: 'closed', message: new ThreadClosed().message };
    return this.posterPermission(viewer);
  }

  /** Whether the person may post anywhere now: the code of conduct accepted and no suspension in force. */
  async posterPermission(viewer: Actor): Promise<ThreadPageData['canReply']> {
    const [accepted, { activeSuspension: suspension }] = await Promise.all([this.conduct.hasAccepted(viewer.id), this.standing.of(viewer.id)]);
    if (suspension) return { allowed: false, reason: 'suspended', message: new PostingSuspended(suspension.endsAt, suspension.reason).message };
    if (!accepted) return { allowed: false, reason: 'conduct', message: new ConductNotAccepted().message };
    return { allowed: true, reason: null, message: null };
  }

  /** Inside a posting transaction: the person's suspension from posting in force now, if any (the one ending last). Pages read PostingStanding. */
  private async activeSuspension(userId: number, tx: EntityManager): Promise<DiscussionSuspension | null> {
    const now = this.clock.now();
    return tx.getRepository(DiscussionSuspension).findOne({ where: { userId, liftedAt: IsNull(), startsAt: LessThanOrEqual(now), endsAt: MoreThan(now) }, order: { endsAt: 'DESC' } });
  }

  // ---- Posting ------------------------------------------------------------------------------------------------

  async startThread(viewer: Actor, spaceId: number, input: { kind?: unknown; title?: unknown; body?: unknown }): Promise<{ thread: DiscussionThread; post: DiscussionPost; held: boolean }> {
    const access = await this.readableSpace(viewer, spaceId);
    // Who is named, and whether the post waits for a moderator, are read before the transaction (other modules' reads).
    const [held, rendered] = await Promise.all([this.heldReason(viewer, access), this.renderIfText(access, input.body, typeof input.title === 'string' ? input.title.trim() : null)]);
    const result = await this.uow.run(async (tx) => {
      await this.conductAndSuspension(tx, viewer);
      await this.checkRate(tx, viewer, access);
      const fields = checkThreadInput(input);
      const now = this.clock.now();
      const status: PostStatus = held ? 'held' : 'visible';
      const threads = tx.getRepository(DiscussionThread);
      const inserted = await threads.insert({
        spaceId,
        authorId: viewer.id,
        kind: fields.kind,
        title: fields.title,
        status,
        pinned: false,
        locked: false,
        openingPostId: null,
        acceptedPostId: null,
        replyCount: 0,
        lastActivityAt: now,
        createdAt: now,
        updatedAt: now,
      });
      const threadId = Number(inserted.identifiers[0].id);
      const post = await this.writePost(tx, rendered!, { threadId, authorId: viewer.id, isOpening: true, body: fields.body, quotedPostId: null, status, statusReason: held, now });
      await threads.update({ id: threadId }, { openingPostId: post.id });
      await this.follows.follow(viewer.id, { threadId }, tx);
      await recountThread(tx, threadId);
      return { thread: await threads.findOneByOrFail({ id: threadId }), post, held: held !== null };
    });
    if (!result.held) await this.events.published(result.post);
    return result;
  }

  async reply(viewer: Actor, threadId: number, input: { body?: unknown; quotedPostId?: unknown }): Promise<{ post: DiscussionPost; held: boolean }> {
    const { access } = await this.readableThread(viewer, threadId);
    const [held, rendered] = await Promise.all([this.heldReason(viewer, access), this.renderIfText(access, input.body, null)]);
    const result = await this.uow.run(async (tx) => {
      await this.conductAndSuspension(tx, viewer);
      const thread = await tx.getRepository(DiscussionThread).findOneByOrFail({ id: threadId });
      if (thread.locked && !access.canModerate) throw new ThreadLocked();
      if (thread.status !== 'visible' && !access.canModerate) throw new ThreadClosed();
      await this.checkRate(tx, viewer, access);
      const { body } = checkPostInput(input, false);
      const quotedPostId = await this.checkQuote(tx, thread, input.quotedPostId);
      const now = this.clock.now();
      const post = await this.writePost(tx, rendered!, { threadId, authorId: viewer.id, isOpening: false, body, quotedPostId, status: held ? 'held' : 'visible', statusReason: held, now });
      await tx.getRepository(DiscussionThread).update({ id: threadId }, { updatedAt: now });
      await this.follows.follow(viewer.id, { threadId }, tx);
      await recountThread(tx, threadId);
      return { post, held: held !== null };
    });
    if (!result.held) await this.events.published(result.post);
    return result;
  }

  /**
   * Changes the viewer's own post (and the thread's title, for its opening post). Saving what is already there changes
   * nothing and leaves no "edited" mark. `changed` says whether anything was saved.
   */
  async editPost(viewer: Actor, postId: number, input: { body?: unknown; title?: unknown }): Promise<{ post: DiscussionPost; thread: DiscussionThread; changed: boolean }> {
    const { post: found, thread: foundThread, access } = await this.readablePost(viewer, postId);
    if (found.authorId !== viewer.id) throw new Forbidden(NOT_YOUR_POST, 'not_your_post');
    const rendered = await this.renderIfText(access, input.body, found.isOpening ? (typeof input.title === 'string' ? input.title.trim() : foundThread.title) : null);
    const result = await this.uow.run(async (tx) => {
      const post = await this.uow.lockForUpdate(tx, DiscussionPost, { id: postId });
      if (!post || post.status === 'deleted') throw new NotFound(NO_SUCH_DISCUSSION);
      if (post.status === 'hidden') throw new Forbidden('A moderator hid this post, so it cannot be changed', 'post_hidden');
      const thread = await tx.getRepository(DiscussionThread).findOneByOrFail({ id: post.threadId });
      if (thread.locked && !access.canModerate) throw new ThreadLocked();
      await this.conductAndSuspension(tx, viewer);
      const fields = checkPostInput(input, post.isOpening);
      const title = post.isOpening && fields.title !== undefined ? fields.title : thread.title;
      if (fields.body === post.body && title === thread.title) return { post, thread, changed: false, titleChanged: false };
      const now = this.clock.now();
      // The searchable text has the title the thread has now (rendered before the transaction with the title given).
      const searchText = post.isOpening && rendered!.title !== title ? [title, rendered!.plain].filter(Boolean).join('\n') : rendered!.searchText;
      await tx.getRepository(DiscussionPost).update({ id: post.id }, { body: fields.body, bodyHtml: rendered!.bodyHtml, searchText, editedAt: now, updatedAt: now });
      await this.syncMentions(tx, post.id, rendered!.mentioned.filter((id) => id !== viewer.id));
      const titleChanged = title !== thread.title;
      if (titleChanged) await tx.getRepository(DiscussionThread).update({ id: thread.id }, { title, updatedAt: now });
      return { post: await tx.getRepository(DiscussionPost).findOneByOrFail({ id: post.id }), thread: await tx.getRepository(DiscussionThread).findOneByOrFail({ id: thread.id }), changed: true, titleChanged };
    });
    if (result.changed) await this.events.changed({ type: result.titleChanged ? 'thread-changed' : 'post-changed', threadId: result.post.threadId, postId: result.post.id });
    return { post: result.post, thread: result.thread, changed: result.changed };
  }

  /**
   * Deletes the viewer's own post: it stays as a placeholder. The opening post of a thread nobody answered takes the
   * thread with it (it leaves the list); of one with replies, the thread stays, opening with the placeholder.
   */
  async deletePost(viewer: Actor, postId: number): Promise<{ post: DiscussionPost; thread: DiscussionThread; threadDeleted: boolean }> {
    const { post: found } = await this.readablePost(viewer, postId);
    if (found.authorId !== viewer.id) throw new Forbidden(NOT_YOUR_POST, 'not_your_post');
    const result = await this.uow.run(async (tx) => {
      const post = await this.uow.lockForUpdate(tx, DiscussionPost, { id: postId });
      if (!post) throw new NotFound(NO_SUCH_DISCUSSION);
      const threads = tx.getRepository(DiscussionThread);
      if (post.status === 'deleted') return { post, thread: await threads.findOneByOrFail({ id: post.threadId }), threadDeleted: false, changed: false };
      const now = this.clock.now();
      await tx.getRepository(DiscussionPost).update({ id: post.id }, { status: 'deleted', updatedAt: now });
      let threadDeleted = false;
      if (post.isOpening) {
        const replies = await tx.getRepository(DiscussionPost).count({ where: { threadId: post.threadId, isOpening: false, status: In(['visible', 'hidden']) } });
        if (replies === 0) {
          await threads.update({ id: post.threadId }, { status: 'deleted', updatedAt: now });
          threadDeleted = true;
        }
      }
      await threads.update({ id: post.threadId, acceptedPostId: post.id }, { acceptedPostId: null });
      await recountThread(tx, post.threadId);
      return { post: await tx.getRepository(DiscussionPost).findOneByOrFail({ id: post.id }), thread: await threads.findOneByOrFail({ id: post.threadId }), threadDeleted, changed: true };
    });
    if (result.changed) await this.events.changed({ type: result.threadDeleted ? 'thread-changed' : 'post-changed', threadId: result.post.threadId, postId: result.post.id });
    return { post: result.post, thread: result.thread, threadDeleted: result.threadDeleted };
  }

  // ---- Helpful ------------------------------------------------------------------------------------------------

  /** Marks a visible post helpful: once per person (twice is once), never one's own. */
  async markHelpful(viewer: Actor, postId: number): Promise<{ post: DiscussionPost; helpfulCount: number }> {
    const { post } = await this.readablePost(viewer, postId);
    if (post.status !== 'visible') throw new Conflict('Only a post that is shown can be marked helpful');
    if (post.authorId === viewer.id) throw new Conflict('This is your own post, so you cannot mark it helpful', {}, 'own_post');
    return this.uow.run(async (tx) => {
      let created = true;
      try {
        await tx.getRepository(DiscussionVote).insert({ postId, userId: viewer.id, createdAt: this.clock.now() });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        created = false;
      }
      // The vote's unique key decides who counts; the increment is one atomic statement, so two voters at once add two.
      if (created) await tx.getRepository(DiscussionPost).increment({ id: postId }, 'helpfulCount', 1);
      const fresh = await tx.getRepository(DiscussionPost).findOneByOrFail({ id: postId });
      return { post: fresh, helpfulCount: Number(fresh.helpfulCount) };
    });
  }

  async unmarkHelpful(viewer: Actor, postId: number): Promise<{ post: DiscussionPost; helpfulCount: number }> {
    await this.readablePost(viewer, postId);
    return this.uow.run(async (tx) => {
      const removed = ((await tx.getRepository(DiscussionVote).delete({ postId, userId: viewer.id })).affected ?? 0) > 0;
      if (removed) await tx.getRepository(DiscussionPost).decrement({ id: postId }, 'helpfulCount', 1);
      const fresh = await tx.getRepository(DiscussionPost).findOneByOrFail({ id: postId });
      return { post: fresh, helpfulCount: Number(fresh.helpfulCount) };
    });
  }

  // ---- Accepted answers ---------------------------------------------------------------------------------------

  /** Marks a visible reply as the answer to its question thread: by the asker or a moderator. Choosing another replaces it. */
  async accept(viewer: Actor, postId: number): Promise<{ post: DiscussionPost; thread: DiscussionThread }> {
    const { post, thread, access } = await this.readablePost(viewer, postId);
    if (thread.kind !== 'question') throw new Conflict('Only the answer to a question can be accepted', {}, 'not_a_question');
    if (thread.authorId !== viewer.id && !access.canModerate) throw new Forbidden('Only the person who asked, or a moderator, can accept an answer', 'not_the_asker');
    if (post.isOpening) throw new Conflict('The question itself cannot be its answer: accept one of the replies', {}, 'opening_post');
    if (post.status !== 'visible') throw new Conflict('Only a reply that is shown can be accepted as the answer', {}, 'post_not_visible');
    const changed = await this.uow.run(async (tx) => {
      const current = await this.uow.lockForUpdate(tx, DiscussionThread, { id: thread.id });
      const fresh = await tx.getRepository(DiscussionPost).findOne({ where: { id: post.id }, select: { id: true, status: true } });
      if (!current || fresh?.status !== 'visible') throw new Conflict('Only a reply that is shown can be accepted as the answer', {}, 'post_not_visible');
      if (current.acceptedPostId === post.id) return false;
      await tx.getRepository(DiscussionThread).update({ id: thread.id }, { acceptedPostId: post.id, updatedAt: this.clock.now() });
      return true;
    });
    if (changed) await this.events.accepted(post);
    return { post, thread: await this.threads.findOneByOrFail({ id: thread.id }) };
  }

  /** Takes back the accepted answer: by the asker or a moderator. */
  async unaccept(viewer: Actor, threadId: number): Promise<{ thread: DiscussionThread }> {
    const { thread, access } = await this.readableThread(viewer, threadId);
    if (thread.authorId !== viewer.id && !access.canModerate) throw new Forbidden('Only the person who asked, or a moderator, can change the accepted answer', 'not_the_asker');
    const result = await this.threads.update({ id: thread.id, acceptedPostId: Not(IsNull()) }, { acceptedPostId: null, updatedAt: this.clock.now() });
    if ((result.affected ?? 0) > 0) await this.events.changed({ type: 'thread-changed', threadId: thread.id });
    return { thread: await this.threads.findOneByOrFail({ id: thread.id }) };
  }

  // ---- Moderators' pin and lock ---------------------------------------------------------------------------------

  async setPinned(viewer: Actor, threadId: number, pinned: boolean): Promise<{ thread: DiscussionThread; changed: boolean }> {
    return this.moderate(viewer, threadId, 'pinned', pinned, pinned ? 'discussion.thread.pinned' : 'discussion.thread.unpinned');
  }

  async setLocked(viewer: Actor, threadId: number, locked: boolean): Promise<{ thread: DiscussionThread; changed: boolean }> {
    return this.moderate(viewer, threadId, 'locked', locked, locked ? 'discussion.thread.locked' : 'discussion.thread.unlocked');
  }

  // ---- Following ------------------------------------------------------------------------------------------------

  async followThread(viewer: Actor, threadId: number, follow: boolean): Promise<{ thread: DiscussionThread }> {
    const { thread } = await this.readableThread(viewer, threadId);
    if (follow) await this.follows.follow(viewer.id, { threadId: thread.id });
    else await this.follows.unfollow(viewer.id, { threadId: thread.id });
    return { thread };
  }

  async followSpace(viewer: Actor, spaceId: number, follow: boolean): Promise<SpaceAccessView> {
    const access = await this.readableSpace(viewer, spaceId);
    if (follow) await this.follows.follow(viewer.id, { spaceId });
    else await this.follows.unfollow(viewer.id, { spaceId });
    return access;
  }

  // ---- Inside ---------------------------------------------------------------------------------------------------

  private async moderate(viewer: Actor, threadId: number, field: 'pinned' | 'locked', value: boolean, action: string): Promise<{ thread: DiscussionThread; changed: boolean }> {
    const { access } = await this.readableThread(viewer, threadId);
    if (!access.canModerate) throw new Forbidden('Only moderators can pin or lock threads', 'not_a_moderator');
    const result = await this.uow.run(async (tx) => {
      const thread = await this.uow.lockForUpdate(tx, DiscussionThread, { id: threadId });
      if (!thread) throw new NotFound(NO_SUCH_DISCUSSION);
      if (Boolean(thread[field]) === value) return { thread, changed: false };
      await tx.getRepository(DiscussionThread).update({ id: threadId }, { [field]: value, updatedAt: this.clock.now() });
      await this.audit.record(tx, { id: viewer.id, name: viewer.name }, { action, target: { type: 'discussion_thread', id: threadId, label: thread.title }, details: { spaceId: thread.spaceId, spaceTitle: access.space.title } });
      return { thread: await tx.getRepository(DiscussionThread).findOneByOrFail({ id: threadId }), changed: true };
    });
    if (result.changed) await this.events.changed({ type: 'thread-changed', threadId });
    return result;
  }

  /** The first posting rules: the current code of conduct accepted (locking the person's row), and no suspension in force. */
  private async conductAndSuspension(tx: EntityManager, viewer: Actor): Promise<void> {
    await this.conduct.lockAcceptance(tx, viewer.id);
    const suspension = await this.activeSuspension(viewer.id, tx);
    if (suspension) throw new PostingSuspended(suspension.endsAt, suspension.reason);
  }

  /** At most POSTS_PER_WINDOW posts in the window, counted after the person's acceptance row is locked. Moderators are not limited. */
  private async checkRate(tx: EntityManager, viewer: Actor, access: SpaceAccessView): Promise<void> {
    if (isSiteModerator(viewer.role) || access.canModerate) return;
    const now = this.clock.now();
    const recent = await tx.getRepository(DiscussionPost).find({
      where: { authorId: viewer.id, createdAt: MoreThan(new Date(now.getTime() - POSTING_WINDOW_MS)) },
      select: { id: true, createdAt: true },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: POSTS_PER_WINDOW,
    });
    if (recent.length < POSTS_PER_WINDOW) return;
    const nextAt = new Date(recent[recent.length - 1].createdAt.getTime() + POSTING_WINDOW_MS);
    throw new PostingTooFast(Math.max(1, Math.ceil((nextAt.getTime() - now.getTime()) / 1000)), nextAt);
  }

  /** The quoted post's id, if it is a post of this thread that readers see; a refusal otherwise. */
  private async checkQuote(tx: EntityManager, thread: DiscussionThread, raw: unknown): Promise<number | null> {
    if (raw === undefined || raw === null || raw === '') return null;
    const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    const quoted = Number.isSafeInteger(id) && id > 0 ? await tx.getRepository(DiscussionPost).findOne({ where: { id }, select: { id: true, threadId: true, status: true } }) : null;
    if (!quoted || quoted.threadId !== thread.id || quoted.status !== 'visible') throw new ValidationFailed({ quotedPostId: 'You can only quote a post that is shown in this thread' });
    return quoted.id;
  }

  /** Why the viewer's post must wait for a moderator, or null: accounts under a day old, or with an unverified address. Moderators are trusted. */
  private async heldReason(viewer: Actor, access: SpaceAccessView): Promise<HeldReason | null> {
    if (isSiteModerator(viewer.role) || access.canModerate) return null;
    const card = (await this.accounts.peopleOf([viewer.id])).get(viewer.id);
    if (!card || !card.emailVerified) return 'unverified';
    if (this.clock.now().getTime() - card.joinedAt.getTime() < NEW_ACCOUNT_MS) return 'new-account';
    return null;
  }

  private async writePost(
    tx: EntityManager,
    rendered: RenderedBody,
    fields: { threadId: number; authorId: number; isOpening: boolean; body: string; quotedPostId: number | null; status: PostStatus; statusReason: string | null; now: Date },
  ): Promise<DiscussionPost> {
    const repo = tx.getRepository(DiscussionPost);
    const inserted = await repo.insert({
      threadId: fields.threadId,
      authorId: fields.authorId,
      isOpening: fields.isOpening,
      body: fields.body,
      bodyHtml: rendered.bodyHtml,
      searchText: rendered.searchText,
      quotedPostId: fields.quotedPostId,
      status: fields.status,
      statusReason: fields.statusReason,
      helpfulCount: 0,
      editedAt: null,
      fannedOutAt: null,
      createdAt: fields.now,
      updatedAt: fields.now,
    });
    const postId = Number(inserted.identifiers[0].id);
    const mentioned = rendered.mentioned.filter((id) => id !== fields.authorId);
    if (mentioned.length) await tx.getRepository(DiscussionMention).insert(mentioned.map((userId) => ({ postId, userId })));
    return repo.findOneByOrFail({ id: postId });
  }

  /** `render`, for a body that is text within the limit; null otherwise (the checks in the transaction refuse it). */
  private renderIfText(access: SpaceAccessView, body: unknown, title: string | null): Promise<RenderedBody | null> {
    return typeof body === 'string' && body.trim() !== '' && body.length <= BODY_MAX_LENGTH ? this.render(access, body, title) : Promise.resolve(null);
  }

  /**
   * A body's stored HTML and searchable text, resolving @mentions: only people who can read the space are named in
   * bold and recorded. Nobody else is told anything, and their handle stays the plain text it was.
   */
  private async render(access: SpaceAccessView, body: string, title: string | null): Promise<RenderedBody> {
    const markdownHtml = renderPostMarkdown(body);
    const ids = mentionedIds(markdownHtml);
    const cards = ids.length ? await this.accounts.peopleOf(ids) : new Map<number, PersonCard>();
    const readers = await this.access.readersAmong(access.space, [...cards.values()].filter((c) => c.active).map((c) => ({ id: c.id, role: c.role })));
    const named = new Map([...cards.values()].filter((c) => readers.has(c.id)).map((c) => [c.id, c.name]));
    const bodyHtml = renderPostHtml(markdownHtml, named);
    const plain = plainText(bodyHtml);
    return { bodyHtml, plain, title, searchText: [title, plain].filter(Boolean).join('\n'), mentioned: [...named.keys()] };
  }

  /** An edited post's mention rows in step with whom it names now. */
  private async syncMentions(tx: EntityManager, postId: number, mentioned: number[]): Promise<void> {
    const mentions = tx.getRepository(DiscussionMention);
    const existing = new Set((await mentions.find({ where: { postId }, select: { userId: true } })).map((m) => m.userId));
    const gone = [...existing].filter((id) => !mentioned.includes(id));
    if (gone.length) await mentions.delete({ postId, userId: In(gone) });
    const added = mentioned.filter((id) => !existing.has(id));
    if (added.length) await mentions.insert(added.map((userId) => ({ postId, userId })));
  }

  /**
   * Who has a visible post in the thread. The same for every reader, and it changes only when a post becomes visible
   * or stops being so, which recounts the thread (reply count, last activity): kept under a key made of those, so a
   * change on any instance is a new key there too.
   */
  private participantIdsOf(thread: DiscussionThread): Promise<number[]> {
    const version = `${thread.id}:${thread.replyCount}:${thread.lastActivityAt.getTime()}:${thread.status}`;
    return this.participantCache.remember(version, async () =>
      (
        await this.posts
          .createQueryBuilder('p')
          .select('DISTINCT p.authorId', 'authorId')
          .where("p.threadId = :id AND p.status = 'visible' AND p.authorId IS NOT NULL", { id: thread.id })
          .getRawMany<{ authorId: number | string }>()
      ).map((r) => Number(r.authorId)),
    );
  }

  private readonly participantCache = new TtlCache<number[]>(60_000, 5000);

  /**
   * A page of replies (the last one if `page` is past it), with how many replies the viewer sees in all and which of
   * the page's posts they found helpful, in one query (a count subquery and a join to their votes).
   */
  private async repliesPage(thread: DiscussionThread, viewer: Actor, access: SpaceAccessView, page: number): Promise<{ rows: DiscussionPost[]; voted: Set<number>; total: number; page: number }> {
    // The count as a subquery rather than COUNT(*) OVER (): the window made MariaDB copy every reply, bodies and
    // all, into a temporary table (620 µs of its time against 255 µs for a page of 100 replies).
    const count = (sub: SelectQueryBuilder<DiscussionPost>) => repliesShownTo(sub.select('COUNT(*)').from(DiscussionPost, 'c'), 'c', thread, viewer, access);
    const read = (at: number) =>
      this.shownPosts(this.replyQuery(thread, viewer, access).orderBy('p.createdAt', 'ASC').addOrderBy('p.id', 'ASC').offset((at - 1) * REPLIES_PER_PAGE).limit(REPLIES_PER_PAGE), viewer, count);
    const first = await read(page);
    if (first.rows.length || page === 1) return { ...first, page };
    // Past the last page (an old link, a typed number): the count says which page is last.
    const last = Math.max(1, Math.ceil((await this.replyQuery(thread, viewer, access).getCount()) / REPLIES_PER_PAGE));
    return { ...(await read(last)), page: last };
  }

  /** The posts of the query with the columns a thread page shows and which of them the viewer found helpful; with `count`, that subquery's answer as `total`. */
  private async shownPosts(query: SelectQueryBuilder<DiscussionPost>, viewer: Actor, count?: (sub: SelectQueryBuilder<DiscussionPost>) => SelectQueryBuilder<DiscussionPost>): Promise<{ rows: DiscussionPost[]; voted: Set<number>; total: number }> {
    query
      .select(SHOWN_POST_COLUMNS.map((c) => `p.${c}`))
      .leftJoin(DiscussionVote, 'v', 'v.postId = p.id AND v.userId = :voterId', { voterId: viewer.id })
      .addSelect('v.id', 'voteId');
    if (count) query.addSelect(count, 'total');
    const { entities, raw } = await query.getRawAndEntities<{ voteId: number | string | null; total?: number | string; p_id: number | string }>();
    const voted = new Set(raw.filter((r) => r.voteId !== null && r.voteId !== undefined).map((r) => Number(r.p_id)));
    return { rows: entities, voted, total: raw.length && raw[0].total !== undefined ? Number(raw[0].total) : 0 };
  }

  private replyQuery(thread: DiscussionThread, viewer: Actor, access: SpaceAccessView) {
    return repliesShownTo(this.posts.createQueryBuilder('p'), 'p', thread, viewer, access);
  }

  /** The page of the thread a reply is on for this viewer (1 for the opening post and the accepted answer, shown on every page). */
  async pageOfPost(viewer: Actor, postId: number): Promise<{ thread: DiscussionThread; page: number }> {
    const { post, thread, access } = await this.readablePost(viewer, postId);
    if (post.isOpening || post.id === thread.acceptedPostId) return { thread, page: 1 };
    return { thread, page: (await this.pagesOf(thread, viewer, access, [post])).get(post.id) ?? 1 };
  }

  /** The page of the replies list each of these posts is on for this viewer (one query whatever their number). */
  private async pagesOf(thread: DiscussionThread, viewer: Actor, access: SpaceAccessView, posts: Array<Pick<DiscussionPost, 'id' | 'createdAt'>>): Promise<Map<number, number>> {
    const pages = new Map<number, number>();
    if (!posts.length) return pages;
    const latest = posts.reduce((max, p) => (p.createdAt > max ? p.createdAt : max), posts[0].createdAt);
    // The ids and times of the replies up to the latest quoted one: their positions give each quoted post's page.
    const before = await this.replyQuery(thread, viewer, access).select(['p.id', 'p.createdAt']).andWhere('p.createdAt <= :latest', { latest }).orderBy('p.createdAt', 'ASC').addOrderBy('p.id', 'ASC').getMany();
    before.forEach((row, index) => {
      if (posts.some((p) => p.id === row.id)) pages.set(row.id, Math.floor(index / REPLIES_PER_PAGE) + 1);
    });
    return pages;
  }

  /** People as discussions show them (name, role, organisation, handle), in one query. */
  peopleViews(ids: Array<number | null>): Promise<Map<number, PersonView>> {
    return this.people(ids);
  }

  private async people(ids: Array<number | null>): Promise<Map<number, PersonView>> {
    const cards = await this.accounts.peopleOf(ids.filter((id): id is number => id !== null));
    return new Map([...cards.values()].map((c) => [c.id, personView(c)]));
  }
}

export const personView = (card: PersonCard): PersonView => ({ id: card.id, name: card.name, roleLabel: ROLE_LABELS[card.role], organisationName: card.organisationName, handle: handleOf(card) });

/** The replies of the thread this viewer sees, as `alias`: not the opening post nor the accepted answer (shown above them); held ones only to their author and moderators. */
function repliesShownTo<Q extends SelectQueryBuilder<DiscussionPost>>(query: Q, alias: string, thread: DiscussionThread, viewer: Actor, access: SpaceAccessView): Q {
  query.where(`${alias}.threadId = :threadId AND ${alias}.isOpening = :no`, { threadId: thread.id, no: false });
  if (thread.acceptedPostId !== null) query.andWhere(`${alias}.id <> :accepted`, { accepted: thread.acceptedPostId });
  if (!access.canModerate) query.andWhere(new Brackets((w) => w.where(`${alias}.status IN ('visible', 'hidden', 'deleted')`).orWhere(`${alias}.status = 'held' AND ${alias}.authorId = :me`, { me: viewer.id })));
  return query;
}

/** A thread's own state lets this viewer see it: visible to every reader; held or hidden to its author and moderators; deleted to moderators. */
function threadVisibleTo(thread: DiscussionThread, viewer: Actor, access: SpaceAccessView): boolean {
  if (thread.status === 'visible' || access.canModerate) return true;
  return (thread.status === 'held' || thread.status === 'hidden') && thread.authorId === viewer.id;
}
