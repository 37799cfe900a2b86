import type { Provider, Type } from '@nestjs/common';

/** The moderation part of discussions: what it adds to DiscussionsModule. */
export const MODERATION_CONTROLLERS: Type[] = [];
export const MODERATION_PROVIDERS: Provider[] = [];
export const MODERATION_EXPORTS: Array<Type | string | symbol> = [];
