import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AccountsService } from '../../accounts/accounts.service';
import type { Viewer } from '../core/discussion-access';
import { DiscussionAccess, NO_SUCH_DISCUSSION } from '../core/discussion-access';
import { DiscussionSpaces } from '../core/discussion-spaces';
import { NotFound } from '../../common/errors';
import { londonDateTime } from '../../common/london-time';
import { ROLE_LABELS } from '../../accounts/roles';
import { DiscussionPost, DiscussionThread, type PostStatus } from '../entities';

/** What an open thread page is sent for a new visible reply (`event: post`): everything it needs to show it. */
export interface LivePostView {
  id: number;
  threadId: number;
  /** Null when the author's account is gone. */
  author: { name: string; roleLabel: string; organisationName: string | null } | null;
  /** Sanitised when the post was written (common/markdown.ts): safe to insert as HTML. */
  bodyHtml: string;
  createdAt: string;
  /** "24 November 2026 at 3:05pm", London time. */
  createdLabel: string;
  href: string;
  /** The thread's visible replies, this one included. */
  replyCount: number;
}

/** A reply just published, with what the hub needs to decide who may see it. */
export interface PublishedReply {
  view: LivePostView;
  /** The thread's own status: while it is not visible only its author and moderators may be sent its replies. */
  threadStatus: PostStatus;
}

/** Whom an open stream belongs to, decided when it opened. */
export interface StreamViewer {
  /** May see a thread that is held or hidden (its author, or a moderator of the space). */
  privileged: boolean;
}

/** At most this many missed replies are sent to a reconnecting page; past that it is told to reload. */
export const CATCH_UP_LIMIT = 50;

/**
 * What the live part reads: whether a viewer may follow a thread, and its visible replies as open pages show them.
 * Held, hidden and deleted posts are never read here.
 */
@Injectable()
export class LivePosts {
  constructor(
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    private readonly spaces: DiscussionSpaces,
    private readonly access: DiscussionAccess,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * The thread's id and whether the viewer sees it in any state, or 404: readers of the space see a visible thread;
   * a held or hidden one only its author and the space's moderators; a deleted one only moderators.
   */
  async readableThread(viewer: Viewer, threadId: number): Promise<{ threadId: number; viewer: StreamViewer }> {
    const thread = Number.isSafeInteger(threadId) && threadId > 0 ? await this.threads.findOne({ where: { id: threadId }, select: { id: true, spaceId: true, authorId: true, status: true } }) : null;
    if (!thread) throw new NotFound(NO_SUCH_DISCUSSION);
    const access = await this.access.requireReader(viewer, await this.spaces.byId(thread.spaceId));
    const privileged = access.canModerate || (thread.authorId !== null && thread.authorId === viewer.id);
    const seen = thread.status === 'visible' || (thread.status === 'deleted' ? access.canModerate : privileged);
    if (!seen) throw new NotFound(NO_SUCH_DISCUSSION);
    return { threadId: thread.id, viewer: { privileged } };
  }

  /**
   * A visible post of the thread: a reply to send, or `opening` when it is the thread's opening post (a held thread a
   * moderator approved: its pages should reload); null when it is not visible (held or hidden again since).
   */
  async publishedPost(threadId: number, postId: number): Promise<PublishedReply | 'opening' | null> {
    const [row] = await this.visibleRows(threadId, { postId, openings: true });
    if (!row) return null;
    if (row.isOpening) return 'opening';
    return { view: (await this.views([row]))[0], threadStatus: row.threadStatus };
  }

  /**
   * The visible replies after `afterPostId`, oldest first, for a page that reconnects: at most CATCH_UP_LIMIT, and
   * `more` when there were more than that (the page should reload), with the newest one's id to carry on from.
   */
  async repliesAfter(threadId: number, afterPostId: number): Promise<{ replies: LivePostView[]; more: boolean; newestId: number | null }> {
    const rows = await this.visibleRows(threadId, { afterPostId, limit: CATCH_UP_LIMIT + 1 });
    if (rows.length <= CATCH_UP_LIMIT) return { replies: await this.views(rows), more: false, newestId: rows.length ? rows[rows.length - 1].id : null };
    const newest = await this.posts
      .createQueryBuilder('p')
      .select('MAX(p.id)', 'id')
      .where('p.threadId = :threadId AND p.status = :status AND p.isOpening = :opening', { threadId, status: 'visible', opening: false })
      .getRawOne<{ id: number | string | null }>();
    return { replies: [], more: true, newestId: newest?.id == null ? null : Number(newest.id) };
  }

  private async visibleRows(threadId: number, where: { postId?: number; afterPostId?: number; limit?: number; openings?: boolean }) {
    const query = this.posts
      .createQueryBuilder('p')
      .innerJoin('p.thread', 't')
      .select(['p.id', 'p.threadId', 'p.authorId', 'p.isOpening', 'p.bodyHtml', 'p.createdAt', 't.id', 't.replyCount', 't.status'])
      .where('p.threadId = :threadId AND p.status = :status', { threadId, status: 'visible' });
    if (!where.openings) query.andWhere('p.isOpening = :opening', { opening: false });
    if (where.postId !== undefined) query.andWhere('p.id = :postId', { postId: where.postId });
    if (where.afterPostId !== undefined) query.andWhere('p.id > :afterPostId', { afterPostId: where.afterPostId });
    const posts = await query.orderBy('p.id', 'ASC').limit(where.limit ?? 1).getMany();
    return posts.map((p) => ({ id: p.id, threadId: p.threadId, authorId: p.authorId, isOpening: p.isOpening, bodyHtml: p.bodyHtml, createdAt: p.createdAt, replyCount: p.thread!.replyCount, threadStatus: p.thread!.status }));
  }

  /** One look-up of every author's card, however many posts. */
  private async views(rows: Array<{ id: number; threadId: number; authorId: number | null; bodyHtml: string; createdAt: Date; replyCount: number }>): Promise<LivePostView[]> {
    const people = await this.accounts.peopleOf(rows.map((r) => r.authorId).filter((id): id is number => id !== null));
    return rows.map((r) => {
      const card = r.authorId === null ? undefined : people.get(r.authorId);
      return {
        id: r.id,
        threadId: r.threadId,
        author: card ? { name: card.name, roleLabel: card.jobRole || ROLE_LABELS[card.role], organisationName: card.organisationName } : null,
        bodyHtml: r.bodyHtml,
        createdAt: r.createdAt.toISOString(),
        createdLabel: londonDateTime(r.createdAt),
        href: `/discussions/threads/${r.threadId}#post-${r.id}`,
        replyCount: r.replyCount,
      };
    });
  }
}
