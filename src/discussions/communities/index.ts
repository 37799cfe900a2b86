import type { Provider, Type } from '@nestjs/common';

/** The communities part of discussions: what it adds to DiscussionsModule. */
export const COMMUNITIES_CONTROLLERS: Type[] = [];
export const COMMUNITIES_PROVIDERS: Provider[] = [];
export const COMMUNITIES_EXPORTS: Array<Type | string | symbol> = [];
