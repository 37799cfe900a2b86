import type { Provider, Type } from '@nestjs/common';
import { AcceptedAnswerJob, FanOutJob, FanOutSweepJob } from './fan-out.jobs';
import { PostFanOut } from './post-fan-out';

/** The fan-out part of discussions: what it adds to DiscussionsModule. */
export const FAN_OUT_CONTROLLERS: Type[] = [];
export const FAN_OUT_PROVIDERS: Provider[] = [PostFanOut, FanOutJob, AcceptedAnswerJob, FanOutSweepJob];
export const FAN_OUT_EXPORTS: Array<Type | string | symbol> = [PostFanOut];
