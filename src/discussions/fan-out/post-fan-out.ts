import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Repository } from 'typeorm';
import { AccountsService } from '../../accounts/accounts.service';
import { Clock } from '../../common/clock';
import { JobsService } from '../../jobs/jobs.service';
import type { NotificationKind } from '../../notifications/entities';
import { InAppNotifications, type NotificationEntry } from '../../notifications/in-app';
import { DiscussionAccess } from '../core/discussion-access';
import { Follows, type FollowTarget } from '../core/follows';
import { fanOutJobId } from '../core/post-events';
import { DiscussionMention, DiscussionPost, DiscussionSpace, DiscussionThread } from '../entities';
import { plainText } from '../threads/post-body';
import { REPLIES_PER_PAGE } from '../threads/posting-rules';
import { threadHref } from '../threads/threads.service';

/** Followers read per page: one query each for them, their accounts, their access and their e-mail settings. */
export const FOLLOWERS_PAGE = 1000;
/** The key of a post's notifications: one per person and post, whichever kind it was. */
export const postDedupeKey = (postId: number) => `post:${postId}`;
/** Characters of a post's text a notification carries. */
export const EXCERPT_LENGTH = 200;
/** A visible post still not fanned out this long after it was written is assumed lost from the queue. */
const SWEEP_AFTER_MS = 60_000;
const SWEEP_BATCH = 500;

/** The start of a post's text, cut at a word where one ends near the limit. */
export function postExcerpt(bodyHtml: string, max = EXCERPT_LENGTH): string {
  const text = plainText(bodyHtml);
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

type PostRow = Pick<DiscussionPost, 'id' | 'threadId' | 'authorId' | 'isOpening' | 'status' | 'bodyHtml' | 'createdAt'>;

/**
 * Who hears of a post once it is visible: the people it mentions (a mention), the thread's followers (a reply) or,
 * for a new thread, the space's followers; one notification per person and post (a mention wins), never its author,
 * only active accounts that can read the space now. Then `fanned_out_at` is set. Run again, it makes nothing twice
 * (each notification's key is `post:{postId}`), so the job may retry and the sweep may enqueue it again freely.
 */
@Injectable()
export class PostFanOut {
  private readonly logger = new Logger('DiscussionFanOut');

  constructor(
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionSpace) private readonly spaces: Repository<DiscussionSpace>,
    @InjectRepository(DiscussionMention) private readonly mentions: Repository<DiscussionMention>,
    private readonly follows: Follows,
    private readonly access: DiscussionAccess,
    private readonly accounts: AccountsService,
    private readonly notifications: InAppNotifications,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
  ) {}

  /** Hands out the notifications of a post; returns how many people it was for (nothing for a post not visible now). */
  async fanOut(postId: number): Promise<number> {
    const post = await this.posts.findOne({ where: { id: postId }, select: { id: true, threadId: true, authorId: true, isOpening: true, status: true, bodyHtml: true, createdAt: true } });
    if (!post || post.status !== 'visible') return 0;
    const thread = await this.threads.findOne({ where: { id: post.threadId } });
    if (!thread || thread.status !== 'visible') return 0;
    const space = await this.spaces.findOne({ where: { id: thread.spaceId } });
    if (!space) return 0;

    const actor = post.authorId === null ? null : ((await this.accounts.peopleOf([post.authorId])).get(post.authorId) ?? null);
    const actorName = actor?.name ?? 'A former member';
    const url = await this.postUrl(post, thread);
    const excerpt = postExcerpt(post.bodyHtml);
    const entry = (userId: number, kind: NotificationKind): NotificationEntry => ({
      userId,
      kind,
      dedupeKey: postDedupeKey(post.id),
      title:
        kind === 'discussion-mention'
          ? `${actorName} mentioned you in “${thread.title}”`
          : kind === 'discussion-new-thread'
            ? `${actorName} started “${thread.title}” in ${space.title}`
            : `${actorName} replied in “${thread.title}”`,
      excerpt,
      url,
      actorId: post.authorId,
    });

    const told = new Set<number>();
    const tell = async (userIds: number[], kind: NotificationKind) => {
      const candidates = userIds.filter((id) => id !== post.authorId && !told.has(id));
      if (!candidates.length) return;
      const people = [...(await this.accounts.peopleOf(candidates)).values()].filter((p) => p.active);
      const readers = await this.access.readersAmong(space, people);
      const recipients = candidates.filter((id) => readers.has(id));
      recipients.forEach((id) => told.add(id));
      await this.notifications.notify(recipients.map((id) => entry(id, kind)));
    };

    // Mentions first: someone mentioned in a reply to a thread they follow hears of the mention.
    const mentioned = (await this.mentions.find({ where: { postId: post.id }, select: { userId: true }, order: { userId: 'ASC' } })).map((m) => m.userId);
    for (let at = 0; at < mentioned.length; at += FOLLOWERS_PAGE) await tell(mentioned.slice(at, at + FOLLOWERS_PAGE), 'discussion-mention');
    const target: FollowTarget = post.isOpening ? { spaceId: space.id } : { threadId: thread.id };
    const kind: NotificationKind = post.isOpening ? 'discussion-new-thread' : 'discussion-reply';
    for (let after = 0; ; ) {
      const page = await this.follows.followers(target, after, FOLLOWERS_PAGE);
      if (!page.length) break;
      await tell(page, kind);
      after = page[page.length - 1];
      if (page.length < FOLLOWERS_PAGE) break;
    }

    await this.posts.update({ id: post.id, fannedOutAt: IsNull() }, { fannedOutAt: this.clock.now() });
    return told.size;
  }

  /**
   * Tells a reply's author that it was accepted as the answer to its question, once per post, unless the asker
   * accepted their own reply. Nothing if it is no longer the accepted answer, or no longer shown.
   */
  async accepted(postId: number): Promise<boolean> {
    const post = await this.posts.findOne({ where: { id: postId }, select: { id: true, threadId: true, authorId: true, isOpening: true, status: true, bodyHtml: true, createdAt: true } });
    if (!post || post.status !== 'visible' || post.isOpening || post.authorId === null) return false;
    const thread = await this.threads.findOne({ where: { id: post.threadId } });
    if (!thread || thread.status !== 'visible' || thread.acceptedPostId !== post.id || thread.authorId === post.authorId) return false;
    const space = await this.spaces.findOne({ where: { id: thread.spaceId } });
    if (!space) return false;
    const author = (await this.accounts.peopleOf([post.authorId])).get(post.authorId);
    if (!author?.active || !(await this.access.readersAmong(space, [author])).has(author.id)) return false;
    await this.notifications.notify([
      {
        userId: author.id,
        kind: 'discussion-accepted',
        dedupeKey: `accepted:${post.id}`,
        title: `Your reply was accepted as the answer to “${thread.title}”`,
        excerpt: postExcerpt(post.bodyHtml),
        // The accepted answer is shown on every page of its thread, first.
        url: `${threadHref(thread.id)}#post-${post.id}`,
        actorId: thread.authorId,
      },
    ]);
    return true;
  }

  /** Enqueues again the fan-out of visible posts not fanned out a minute after they were written (a lost job, Redis away). */
  async sweep(): Promise<number> {
    const stale = await this.posts.find({
      where: { fannedOutAt: IsNull(), status: 'visible', createdAt: LessThan(new Date(this.clock.now().getTime() - SWEEP_AFTER_MS)) },
      select: { id: true },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: SWEEP_BATCH,
    });
    for (const { id } of stale) await this.jobs.enqueue('discussions.fan-out', { postId: id }, { jobId: fanOutJobId(id), attempts: 8, rerunFinished: true });
    if (stale.length) this.logger.log(`Re-enqueued the fan-out of ${stale.length} post(s)`);
    return stale.length;
  }

  /**
   * Where a notification of the post leads: the thread page the post is on, as readers see it (replies oldest first,
   * REPLIES_PER_PAGE a page, the accepted answer and held posts of others not among them), at the post.
   */
  private async postUrl(post: PostRow, thread: DiscussionThread): Promise<string> {
    if (post.isOpening || post.id === thread.acceptedPostId) return `${threadHref(thread.id)}#post-${post.id}`;
    const before = await this.posts
      .createQueryBuilder('p')
      .where('p.threadId = :threadId AND p.isOpening = :no AND p.status IN (:...shown)', { threadId: thread.id, no: false, shown: ['visible', 'hidden', 'deleted'] })
      .andWhere('(p.createdAt < :at OR (p.createdAt = :at AND p.id < :id))', { at: post.createdAt, id: post.id })
      .andWhere(thread.acceptedPostId === null ? '1 = 1' : 'p.id <> :accepted', { accepted: thread.acceptedPostId })
      .getCount();
    return `${threadHref(thread.id, Math.floor(before / REPLIES_PER_PAGE) + 1)}#post-${post.id}`;
  }
}
