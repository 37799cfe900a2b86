import { Controller, Get, Logger, Param, ParseIntPipe, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { EventStreamSlots, openEventStream } from '../../live/event-stream';
import { NO_SUCH_DISCUSSION } from '../core/discussion-access';
import { LivePosts } from './live-posts';
import { ThreadHub } from './thread-hub';

const threadId = new ParseIntPipe({ exceptionFactory: () => new NotFound(NO_SUCH_DISCUSSION) });

/**
 * A stream lives this long (plus up to a third more, so that pages opened together do not all come back together),
 * then ends; the browser reconnects after the retry delay with Last-Event-ID. Who may read a thread is decided when
 * its stream opens, so this is how soon someone removed from a members-only community stops hearing its replies.
 */
export const STREAM_LIFETIME_MS = 10 * 60_000;

/** A post id from Last-Event-ID or `?after=`; anything else is no id. */
function postIdOf(value: unknown): number | null {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,15}$/.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}

/** Server-sent events of one thread: new replies as they are published, and word of changes (see ThreadHub). */
@ApiExcludeController()
@Controller()
export class ThreadEventsController {
  private readonly logger = new Logger('ThreadEvents');

  constructor(
    private readonly posts: LivePosts,
    private readonly hub: ThreadHub,
    private readonly streamSlots: EventStreamSlots,
  ) {}

  /**
   * `?after=` is the newest reply on the page when the script first connects; a reconnecting browser's Last-Event-ID
   * (the last reply it was sent) wins over it. Replies after it are sent first, so nothing published in between is lost.
   */
  @Get('discussions/threads/:id/events')
  async events(@Param('id', threadId) id: number, @Query('after') after: unknown, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // 404 for a thread the viewer may not read, and 429 when this sign-in has its streams open: before the stream opens.
    const { viewer } = await this.posts.readableThread(user, id);
    const holder = EventStreamSlots.holderOf(request);
    const release = holder ? await this.streamSlots.acquire(holder) : () => undefined;
    const stream = openEventStream(request, reply);
    stream.onClose(release);
    if (stream.closed) return;
    const lifetime = setTimeout(() => stream.close(), STREAM_LIFETIME_MS * (1 + Math.random() / 3));
    lifetime.unref();
    stream.onClose(() => clearTimeout(lifetime));
    try {
      await this.hub.join(id, stream, viewer, postIdOf(request.headers['last-event-id']) ?? postIdOf(after));
    } catch (err) {
      // The response is already an event stream: end it (the browser reconnects) rather than answer an error.
      this.logger.warn(`Could not start the event stream of thread ${id}: ${(err as Error).message}`);
      stream.close();
    }
  }
}
