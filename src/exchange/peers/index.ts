import type { Provider, Type } from '@nestjs/common';

/** The peers part of the exchange: what it adds to ExchangeModule. */
export const PEERS_CONTROLLERS: Type[] = [];
export const PEERS_PROVIDERS: Provider[] = [];
/** What other parts of the exchange (or other modules) may use. */
export const PEERS_EXPORTS: Array<Type | string | symbol> = [];
