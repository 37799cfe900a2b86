import { Injectable, Logger } from '@nestjs/common';
import type { EventStream } from '../../live/event-stream';
import { LiveEvents, type Subscription } from '../../live/live-events';
import { threadChannel, type ThreadLiveMessage } from '../core/post-events';
import { LivePosts, type LivePostView, type StreamViewer } from './live-posts';

interface OpenPage extends StreamViewer {
  stream: EventStream;
}

interface Room {
  pages: Set<OpenPage>;
  subscription: Subscription;
  /** Messages are handled one after another, so replies reach pages in the order they were published. */
  queue: Promise<void>;
}

const MESSAGE_TYPES = new Set<ThreadLiveMessage['type']>(['post', 'post-changed', 'thread-changed']);

/**
 * The open thread pages this web instance serves. One subscription per thread with pages open here; a published
 * reply is read from the database once and the same frame sent to every one of them, however many there are.
 *
 * Frames: `event: post` (a LivePostView, with `id:` the post's id so that a reconnecting browser's Last-Event-ID
 * says where to carry on) and `event: changed` (the ThreadLiveMessage: something on the page is out of date).
 */
@Injectable()
export class ThreadHub {
  private readonly logger = new Logger('ThreadHub');
  private readonly rooms = new Map<number, Room>();

  constructor(
    private readonly posts: LivePosts,
    private readonly live: LiveEvents,
  ) {}

  /**
   * Adds an open page: from now on it hears every reply and change. Then, if it says which reply it saw last
   * (Last-Event-ID on a reconnect, or the newest on the page when it first connects), sends what it missed.
   */
  async join(threadId: number, stream: EventStream, viewer: StreamViewer, lastSeenPostId: number | null): Promise<void> {
    let room = this.rooms.get(threadId);
    if (!room) {
      const subscription = this.live.subscribe(threadChannel(threadId), (message) => this.heard(threadId, message));
      room = { pages: new Set(), subscription, queue: Promise.resolve() };
      this.rooms.set(threadId, room);
    }
    const page: OpenPage = { stream, privileged: viewer.privileged };
    room.pages.add(page);
    stream.onClose(() => this.leave(threadId, page));
    // Subscribed before reading what was missed: a reply published meanwhile comes twice at worst (the page keeps one).
    await room.subscription.ready.catch(() => undefined);
    if (lastSeenPostId === null || stream.closed) return;
    const missed = await this.posts.repliesAfter(threadId, lastSeenPostId);
    for (const reply of missed.replies) stream.send('post', reply, String(reply.id));
    if (missed.more) stream.send('changed', { type: 'thread-changed', threadId } satisfies ThreadLiveMessage, missed.newestId === null ? undefined : String(missed.newestId));
  }

  /** Pages open here, for the bench and health. */
  get pageCount(): number {
    let count = 0;
    for (const room of this.rooms.values()) count += room.pages.size;
    return count;
  }

  private leave(threadId: number, page: OpenPage): void {
    const room = this.rooms.get(threadId);
    if (!room) return;
    room.pages.delete(page);
    if (room.pages.size) return;
    room.subscription();
    this.rooms.delete(threadId);
  }

  private heard(threadId: number, text: string): void {
    const message = parseMessage(text, threadId);
    const room = this.rooms.get(threadId);
    if (!message || !room) return;
    room.queue = room.queue.then(() => this.deliver(threadId, room, message)).catch((err: Error) => this.logger.warn(`Could not tell the open pages of thread ${threadId} about ${message.type}: ${err.message}`));
  }

  private async deliver(threadId: number, room: Room, message: ThreadLiveMessage): Promise<void> {
    if (message.type !== 'post' || message.postId === undefined) return this.broadcast(room, 'changed', message, false);
    const post = await this.posts.publishedPost(threadId, message.postId);
    // Not visible (held, or hidden again since): nothing to say, not even that something happened.
    if (post === null) return;
    // The opening post made visible (a moderator approved a held thread): the thread itself changed.
    if (post === 'opening') return this.broadcast(room, 'changed', { type: 'thread-changed', threadId } satisfies ThreadLiveMessage, false);
    await this.broadcast(room, 'post', post.view, post.threadStatus !== 'visible', String(post.view.id));
  }

  private async broadcast(room: Room, event: 'post' | 'changed', data: LivePostView | ThreadLiveMessage, privilegedOnly: boolean, id?: string): Promise<void> {
    for (const page of room.pages) if (!privilegedOnly || page.privileged) page.stream.send(event, data, id);
  }
}

/** The message, if it is a ThreadLiveMessage of this thread (anything else on the channel is ignored). */
function parseMessage(text: string, threadId: number): ThreadLiveMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { type, threadId: messageThreadId, postId } = value as Record<string, unknown>;
  if (!MESSAGE_TYPES.has(type as ThreadLiveMessage['type']) || messageThreadId !== threadId) return null;
  if (postId !== undefined && !(Number.isSafeInteger(postId) && (postId as number) > 0)) return null;
  return postId === undefined ? { type: type as ThreadLiveMessage['type'], threadId } : { type: type as ThreadLiveMessage['type'], threadId, postId: postId as number };
}
