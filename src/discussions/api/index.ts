import type { Provider, Type } from '@nestjs/common';

/** The JSON API of discussions (/api/v1/discussions/...): what it adds to DiscussionsModule. */
export const API_CONTROLLERS: Type[] = [];
export const API_PROVIDERS: Provider[] = [];
export const API_EXPORTS: Array<Type | string | symbol> = [];
