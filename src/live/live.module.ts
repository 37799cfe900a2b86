import { Module } from '@nestjs/common';
import { EventStreamSlots } from './event-stream';
import { liveEventsProvider } from './live-events';

/**
 * Messages between web instances (Redis pub/sub, or this process on embedded defaults) and the server-sent-events
 * streams that carry them to open pages, with their per-session slots. Shared by webinars' live Q&A and discussions'
 * live replies: one LiveEvents per process, whichever module asks for it.
 */
@Module({
  providers: [liveEventsProvider, EventStreamSlots],
  exports: [liveEventsProvider, EventStreamSlots],
})
export class LiveModule {}
