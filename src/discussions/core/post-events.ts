import { Injectable, Logger } from '@nestjs/common';
import { JobsService } from '../../jobs/jobs.service';
import { LiveEvents } from '../../live/live-events';

declare module '../../jobs/job-registry' {
  interface JobRegistry {
    /** Notifies the followers and mentioned readers of a post that became visible (new, or approved by a moderator). */
    'discussions.fan-out': { postId: number };
    /** Tells a reply's author that the asker (or a moderator) accepted it as the answer. */
    'discussions.accepted': { postId: number };
  }
}

/** The live channel of one thread: every open page of it listens; the message is the JSON of a ThreadLiveMessage. */
export const threadChannel = (threadId: number) => `discussion-thread:${threadId}`;

/** What an open thread page hears: a post appeared (new or approved), changed (edited, hidden, restored, deleted, accepted), or the thread did (locked, pinned). */
export interface ThreadLiveMessage {
  type: 'post' | 'post-changed' | 'thread-changed';
  threadId: number;
  postId?: number;
}

export const fanOutJobId = (postId: number) => `discussions.fan-out:${postId}`;

/**
 * What happens once a change to a thread has committed: the fan-out of a newly visible post is enqueued (a sweep
 * enqueues it again from `discussion_posts.fanned_out_at` if Redis was away), and open pages of the thread are told.
 * Neither may fail the request that made the change: it is in the database already.
 */
@Injectable()
export class PostEvents {
  private readonly logger = new Logger('DiscussionEvents');

  constructor(
    private readonly jobs: JobsService,
    private readonly live: LiveEvents,
  ) {}

  /** A post became visible to readers: notify its followers and mentioned people, and show it on open pages. */
  async published(post: { id: number; threadId: number }): Promise<void> {
    await this.jobs.tryEnqueue('discussions.fan-out', { postId: post.id }, { jobId: fanOutJobId(post.id), attempts: 8, rerunFinished: true });
    await this.tell({ type: 'post', threadId: post.threadId, postId: post.id });
  }

  /** A reply was accepted as the answer to its question: tell its author (once per post, whatever is accepted later). */
  async accepted(post: { id: number; threadId: number }): Promise<void> {
    await this.jobs.tryEnqueue('discussions.accepted', { postId: post.id }, { jobId: `discussions.accepted:${post.id}`, attempts: 8 });
    await this.tell({ type: 'post-changed', threadId: post.threadId, postId: post.id });
  }

  /** A post or the thread changed in a way open pages should show. */
  async changed(message: ThreadLiveMessage): Promise<void> {
    await this.tell(message);
  }

  private async tell(message: ThreadLiveMessage): Promise<void> {
    try {
      await this.live.publish(threadChannel(message.threadId), JSON.stringify(message));
    } catch (err) {
      // Pages that miss it show the change when reloaded (and the live script reloads the list on reconnect).
      this.logger.warn(`Could not tell open pages of thread ${message.threadId} about ${message.type}: ${err instanceof Error ? err.message : err}`);
    }
  }
}
