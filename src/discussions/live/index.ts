import type { Provider, Type } from '@nestjs/common';

/** The live part of discussions: what it adds to DiscussionsModule. */
export const LIVE_CONTROLLERS: Type[] = [];
export const LIVE_PROVIDERS: Provider[] = [];
export const LIVE_EXPORTS: Array<Type | string | symbol> = [];
