import type { Provider, Type } from '@nestjs/common';

/** The threads part of discussions: what it adds to DiscussionsModule. */
export const THREADS_CONTROLLERS: Type[] = [];
export const THREADS_PROVIDERS: Provider[] = [];
export const THREADS_EXPORTS: Array<Type | string | symbol> = [];
