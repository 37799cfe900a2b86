import type { Provider, Type } from '@nestjs/common';
import { DiscussionsPersonalData } from '../personal-data';
import { DiscussionModeration } from './discussion-moderation.service';
import { DiscussionModerationPagesController } from './moderation.pages.controller';
import { PostContexts } from './post-context';
import { ReportsPagesController } from './reports.pages.controller';
import { DiscussionReports } from './reports.service';
import { DiscussionSuspensions } from './suspensions.service';

/** The moderation part of discussions: what it adds to DiscussionsModule (and the discussions' personal data). */
export const MODERATION_CONTROLLERS: Type[] = [ReportsPagesController, DiscussionModerationPagesController];
export const MODERATION_PROVIDERS: Provider[] = [PostContexts, DiscussionReports, DiscussionModeration, DiscussionSuspensions, DiscussionsPersonalData];
export const MODERATION_EXPORTS: Array<Type | string | symbol> = [DiscussionReports, DiscussionModeration, DiscussionSuspensions];
