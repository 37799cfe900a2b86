import type { Provider, Type } from '@nestjs/common';
import { DiscussionSearchPagesController } from './discussion-search.pages.controller';
import { DiscussionSearchService } from './discussion-search.service';
import { ReadableSpaces } from './readable-spaces';

/** The search part of discussions: /discussions/search over every space the viewer may read, or one. */
export const SEARCH_CONTROLLERS: Type[] = [DiscussionSearchPagesController];
export const SEARCH_PROVIDERS: Provider[] = [DiscussionSearchService, ReadableSpaces];
export const SEARCH_EXPORTS: Array<Type | string | symbol> = [];
