import type { Provider, Type } from '@nestjs/common';
import { LivePosts } from './live-posts';
import { ThreadEventsController } from './thread-events.controller';
import { ThreadHub } from './thread-hub';

/** The live part of discussions: what it adds to DiscussionsModule. */
export const LIVE_CONTROLLERS: Type[] = [ThreadEventsController];
export const LIVE_PROVIDERS: Provider[] = [LivePosts, ThreadHub];
export const LIVE_EXPORTS: Array<Type | string | symbol> = [];
