import type { Provider, Type } from '@nestjs/common';

/** The search part of discussions: what it adds to DiscussionsModule. */
export const SEARCH_CONTROLLERS: Type[] = [];
export const SEARCH_PROVIDERS: Provider[] = [];
export const SEARCH_EXPORTS: Array<Type | string | symbol> = [];
