import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AccountsService } from '../../accounts/accounts.service';
import { londonDateTime } from '../../common/london-time';
import { DiscussionPost, type PostStatus } from '../entities';
import { REPLIES_PER_PAGE } from '../threads/posting-rules';
import { personView, threadHref, ThreadsService, type Actor } from '../threads/threads.service';

/** What an open thread page is sent for a new visible reply (`event: post`): everything it needs to show it. */
export interface LivePostView {
  id: number;
  threadId: number;
  /** As the thread page shows people (ThreadsService's personView); null when the author's account is gone. */
  author: { name: string; roleLabel: string; organisationName: string | null; handle: string } | null;
  /** Sanitised when the post was written (common/markdown.ts): safe to insert as HTML. */
  bodyHtml: string;
  createdAt: string;
  /** "24 November 2026 at 3:05pm", London time. */
  createdLabel: string;
  href: string;
  /**
   * The thread's last page as readers page it (THREADS's REPLIES_PER_PAGE, placeholders of hidden and deleted replies
   * included), where a new reply is: what a page other than the last links to. A moderator who also sees held replies
   * may have one more page; the thread page shows the last one for any page past it.
   */
  lastPageHref: string;
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
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    private readonly threadsService: ThreadsService,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * The thread, if the viewer may read it (ThreadsService's rule: 404 otherwise), and whether they may also see it
   * while it is held or hidden (its author, the space's moderators).
   */
  async readableThread(viewer: Actor, threadId: number): Promise<{ threadId: number; viewer: StreamViewer }> {
    const { thread, access } = await this.threadsService.readableThread(viewer, threadId);
    return { threadId: thread.id, viewer: { privileged: access.canModerate || (thread.authorId !== null && thread.authorId === viewer.id) } };
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
    if (!rows.length) return [];
    const threadId = rows[0].threadId;
    const [people, listed] = await Promise.all([
      this.accounts.peopleOf(rows.map((r) => r.authorId).filter((id): id is number => id !== null)),
      // What a reader's list of replies holds (ThreadsService pages it): all but the opening, the accepted answer (shown above) and held ones.
      this.posts
        .createQueryBuilder('p')
        .innerJoin('p.thread', 't')
        .where("p.threadId = :threadId AND p.isOpening = :no AND p.status IN ('visible', 'hidden', 'deleted')", { threadId, no: false })
        .andWhere('(t.acceptedPostId IS NULL OR p.id <> t.acceptedPostId)')
        .getCount(),
    ]);
    const lastPageHref = threadHref(threadId, Math.max(1, Math.ceil(listed / REPLIES_PER_PAGE)));
    return rows.map((r) => {
      const card = r.authorId === null ? undefined : people.get(r.authorId);
      return {
        id: r.id,
        threadId: r.threadId,
        author: card ? (({ name, roleLabel, organisationName, handle }) => ({ name, roleLabel, organisationName, handle }))(personView(card)) : null,
        bodyHtml: r.bodyHtml,
        createdAt: r.createdAt.toISOString(),
        createdLabel: londonDateTime(r.createdAt),
        href: `/discussions/threads/${r.threadId}#post-${r.id}`,
        lastPageHref: `${lastPageHref}#post-${r.id}`,
        replyCount: r.replyCount,
      };
    });
  }
}
