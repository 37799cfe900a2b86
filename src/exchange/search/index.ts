import type { Provider, Type } from '@nestjs/common';

/** The search part of the exchange: what it adds to ExchangeModule. */
export const SEARCH_CONTROLLERS: Type[] = [];
export const SEARCH_PROVIDERS: Provider[] = [];
/** What other parts of the exchange (or other modules) may use. */
export const SEARCH_EXPORTS: Array<Type | string | symbol> = [];
