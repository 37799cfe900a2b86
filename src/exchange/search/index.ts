import type { Provider, Type } from '@nestjs/common';
import { ExchangeSearchApiController } from './exchange-search.api.controller';
import { ExchangeSearchPagesController } from './exchange-search.pages.controller';
import { ExchangeSearchService } from './exchange-search.service';
import { RelatedService } from './related.service';

/** The search part of the exchange: what it adds to ExchangeModule. */
export const SEARCH_CONTROLLERS: Type[] = [ExchangeSearchPagesController, ExchangeSearchApiController];
export const SEARCH_PROVIDERS: Provider[] = [ExchangeSearchService, RelatedService];
/** What other parts of the exchange (or other modules) may use: the search, and the related-learning panel of an item's page. */
export const SEARCH_EXPORTS: Array<Type | string | symbol> = [ExchangeSearchService, RelatedService];
