import type { Provider, Type } from '@nestjs/common';

/** The entry part of discussions: what it adds to DiscussionsModule. */
export const ENTRY_CONTROLLERS: Type[] = [];
export const ENTRY_PROVIDERS: Provider[] = [];
export const ENTRY_EXPORTS: Array<Type | string | symbol> = [];
