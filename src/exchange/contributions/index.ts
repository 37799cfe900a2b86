import type { Provider, Type } from '@nestjs/common';

/** The contributions part of the exchange: what it adds to ExchangeModule. */
export const CONTRIBUTIONS_CONTROLLERS: Type[] = [];
export const CONTRIBUTIONS_PROVIDERS: Provider[] = [];
/** What other parts of the exchange (or other modules) may use. */
export const CONTRIBUTIONS_EXPORTS: Array<Type | string | symbol> = [];
