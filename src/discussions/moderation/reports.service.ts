import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { Conflict, Forbidden } from '../../common/errors';
import { isUniqueViolation } from '../../database/errors';
import { DiscussionReport, type ReportReason } from '../entities';
import { threadHref, ThreadsService } from '../threads/threads.service';
import { PostContexts, type PostContext } from './post-context';

export const OWN_POST = 'You cannot report your own post. You can edit or delete it instead.';
export const ALREADY_REPORTED = 'You have already reported this post. A moderator will look at it.';

export interface ReportInput {
  reason: ReportReason;
  details: string;
}

/**
 * Reports of posts by their readers: anyone who can read a visible post may report it once, with a reason, except
 * its author. A report is open until a moderator hides the post (upheld) or dismisses its reports.
 */
@Injectable()
export class DiscussionReports {
  private readonly logger = new Logger('DiscussionReports');

  constructor(
    private readonly contexts: PostContexts,
    private readonly clock: Clock,
    private readonly threads: ThreadsService,
    @InjectRepository(DiscussionReport) private readonly reports: Repository<DiscussionReport>,
  ) {}

  /** The post to report, if the viewer may; `alreadyReported` when they did before (the form then says so). */
  async reportable(viewer: CurrentUser, postId: number): Promise<PostContext & { alreadyReported: boolean }> {
    const context = await this.contexts.readable(viewer, postId);
    if (context.post.authorId === viewer.id) throw new Forbidden(OWN_POST, 'own_post');
    const alreadyReported = await this.reports.exists({ where: { postId, reporterId: viewer.id } });
    return { ...context, alreadyReported };
  }

  /**
   * Records the report; refused (nothing written) for one's own post and for a second report of the same post.
   * Answers where to go back to: the page of the thread the post is on, with the banner, at the post.
   */
  async report(viewer: CurrentUser, postId: number, input: ReportInput): Promise<{ back: string }> {
    const context = await this.reportable(viewer, postId);
    if (context.alreadyReported) throw new Conflict(ALREADY_REPORTED, {}, 'already_reported');
    try {
      await this.reports.insert({ postId, reporterId: viewer.id, reason: input.reason, details: input.details, status: 'open', decidedById: null, decidedAt: null, createdAt: this.clock.now() });
    } catch (err) {
      // The same person's report sent twice at once: the unique key lets one through.
      if (isUniqueViolation(err)) throw new Conflict(ALREADY_REPORTED, {}, 'already_reported');
      throw err;
    }
    this.logger.log(`Post ${postId} reported (${input.reason}) by ${viewer.id}`);
    const { page } = await this.threads.pageOfPost(viewer, postId);
    const href = threadHref(context.thread.id, page);
    return { back: `${href}${href.includes('?') ? '&' : '?'}notice=reported#post-${postId}` };
  }
}
