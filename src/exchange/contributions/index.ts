import type { Provider, Type } from '@nestjs/common';
import { ContributionsReader } from './contributions.reader';
import { ExchangeDownloads } from './downloads';
import { ExchangeAccess } from './exchange-access';
import { ItemPagesController } from './item.pages.controller';

/** The contributions part of the exchange: what it adds to ExchangeModule. */
export const CONTRIBUTIONS_CONTROLLERS: Type[] = [ItemPagesController];
export const CONTRIBUTIONS_PROVIDERS: Provider[] = [ExchangeAccess, ContributionsReader, ExchangeDownloads];
/** What other parts of the exchange (or other modules) may use: who may see unpublished work, and an item as its page shows it. */
export const CONTRIBUTIONS_EXPORTS: Array<Type | string | symbol> = [ExchangeAccess, ContributionsReader];
