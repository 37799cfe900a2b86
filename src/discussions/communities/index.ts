import type { Provider, Type } from '@nestjs/common';
import { CommunitiesAdminController } from './communities.admin.controller';
import { CommunitiesApiController } from './communities.api.controller';
import { CommunitiesPagesController } from './communities.pages.controller';
import { CommunitiesService } from './communities.service';

/** The communities part of discussions: what it adds to DiscussionsModule. */
export const COMMUNITIES_CONTROLLERS: Type[] = [CommunitiesPagesController, CommunitiesAdminController, CommunitiesApiController];
export const COMMUNITIES_PROVIDERS: Provider[] = [CommunitiesService];
/** The communities service: the list and the viewer's membership, joining and leaving (a community's page offers them). */
export const COMMUNITIES_EXPORTS: Array<Type | string | symbol> = [CommunitiesService];
