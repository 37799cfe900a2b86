import type { Provider, Type } from '@nestjs/common';
import { ModerationPagesController } from './moderation.pages.controller';
import { ModerationService } from './moderation.service';
import { ReviewDates, ReviewDatesJob } from './review-dates';
import { ReviewPagesController } from './review.pages.controller';
import { SystemsService } from './systems.service';

/** The moderation part of the exchange: what it adds to ExchangeModule. See docs/exchange-moderation.md. */
export const MODERATION_CONTROLLERS: Type[] = [ModerationPagesController, ReviewPagesController];
export const MODERATION_PROVIDERS: Provider[] = [ModerationService, SystemsService, ReviewDates, ReviewDatesJob];
/** What other parts of the exchange (or other modules) may use. */
export const MODERATION_EXPORTS: Array<Type | string | symbol> = [ModerationService, SystemsService, ReviewDates];
