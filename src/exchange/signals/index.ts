import type { Provider, Type } from '@nestjs/common';

/** The signals part of the exchange: what it adds to ExchangeModule. */
export const SIGNALS_CONTROLLERS: Type[] = [];
export const SIGNALS_PROVIDERS: Provider[] = [];
/** What other parts of the exchange (or other modules) may use. */
export const SIGNALS_EXPORTS: Array<Type | string | symbol> = [];
