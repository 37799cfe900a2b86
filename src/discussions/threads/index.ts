import type { Provider, Type } from '@nestjs/common';
import { Conduct } from './conduct';
import { ConductPagesController } from './conduct.pages.controller';
import { ThreadsPagesController } from './threads.pages.controller';
import { ThreadsService } from './threads.service';

/** The threads part of discussions: what it adds to DiscussionsModule. */
export const THREADS_CONTROLLERS: Type[] = [ConductPagesController, ThreadsPagesController];
export const THREADS_PROVIDERS: Provider[] = [Conduct, ThreadsService];
export const THREADS_EXPORTS: Array<Type | string | symbol> = [Conduct, ThreadsService];
