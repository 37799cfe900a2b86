import { Injectable, Logger } from '@nestjs/common';
import type { EventStream } from '../live/event-stream';
import { LiveEvents, type Subscription } from '../live/live-events';
import { questionsChannel, QuestionsService, type QuestionView } from './questions.service';

interface Room {
  viewers: Set<{ stream: EventStream; moderator: boolean }>;
  subscription: Subscription;
  /** A reload is running; `again` asks for one more when it ends (changes that arrived meanwhile). */
  reloading: boolean;
  again: boolean;
}

/**
 * The live question lists this web instance serves. One subscription per webinar with viewers here; on a
 * change the list is read once and sent to every viewer (not once per viewer), and bursts of changes are
 * coalesced into one more read.
 */
@Injectable()
export class QuestionsHub {
  private readonly logger = new Logger('QuestionsHub');
  private readonly rooms = new Map<number, Room>();

  constructor(
    private readonly questions: QuestionsService,
    private readonly live: LiveEvents,
  ) {}

  /** Adds a viewer: they get the current list at once, then every change. */
  async join(webinarId: number, stream: EventStream, moderator: boolean): Promise<void> {
    let room = this.rooms.get(webinarId);
    if (!room) {
      const subscription = this.live.subscribe(questionsChannel(webinarId), () => void this.refresh(webinarId));
      room = { viewers: new Set(), subscription, reloading: false, again: false };
      this.rooms.set(webinarId, room);
    }
    const viewer = { stream, moderator };
    room.viewers.add(viewer);
    stream.onClose(() => this.leave(webinarId, viewer));
    await room.subscription.ready.catch(() => undefined);
    stream.send('questions', await this.questions.list(webinarId, { includeHidden: moderator }));
  }

  /** Viewers connected here, for the bench and health. */
  get viewerCount(): number {
    let count = 0;
    for (const room of this.rooms.values()) count += room.viewers.size;
    return count;
  }

  private leave(webinarId: number, viewer: { stream: EventStream; moderator: boolean }): void {
    const room = this.rooms.get(webinarId);
    if (!room) return;
    room.viewers.delete(viewer);
    if (room.viewers.size) return;
    room.subscription();
    this.rooms.delete(webinarId);
  }

  private async refresh(webinarId: number): Promise<void> {
    const room = this.rooms.get(webinarId);
    if (!room) return;
    if (room.reloading) {
      room.again = true;
      return;
    }
    room.reloading = true;
    try {
      do {
        room.again = false;
        const lists = new Map<boolean, QuestionView[]>();
        for (const moderator of new Set([...room.viewers].map((v) => v.moderator))) {
          lists.set(moderator, await this.questions.list(webinarId, { includeHidden: moderator }));
        }
        for (const viewer of room.viewers) viewer.stream.send('questions', lists.get(viewer.moderator));
      } while (room.again);
    } catch (err) {
      this.logger.warn(`Could not refresh the questions of webinar ${webinarId}: ${(err as Error).message}`);
    } finally {
      room.reloading = false;
    }
  }
}
