import type { Provider, Type } from '@nestjs/common';
import { DiscussionSearchApiController } from './discussion-search.api.controller';
import { DiscussionsApiViews } from './discussions-api.views';
import { DiscussionsApiController } from './discussions.api.controller';

/** The JSON API of discussions (/api/v1/discussions/...): threads, posts, votes, follows, the code of conduct, subjects and search. */
export const API_CONTROLLERS: Type[] = [DiscussionsApiController, DiscussionSearchApiController];
export const API_PROVIDERS: Provider[] = [DiscussionsApiViews];
export const API_EXPORTS: Array<Type | string | symbol> = [];
