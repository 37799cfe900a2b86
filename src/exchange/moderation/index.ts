import type { Provider, Type } from '@nestjs/common';

/** The moderation part of the exchange: what it adds to ExchangeModule. */
export const MODERATION_CONTROLLERS: Type[] = [];
export const MODERATION_PROVIDERS: Provider[] = [];
/** What other parts of the exchange (or other modules) may use. */
export const MODERATION_EXPORTS: Array<Type | string | symbol> = [];
