import type { Provider, Type } from '@nestjs/common';
import { ContributionForms } from './contribution-form';
import { ContributionsApiController } from './contributions.api.controller';
import { ContributionsPagesController } from './contributions.pages.controller';
import { ContributionsReader } from './contributions.reader';
import { ContributionsService } from './contributions.service';
import { ExchangeDownloads } from './downloads';
import { ExchangeAccess } from './exchange-access';
import { ItemPagesController } from './item.pages.controller';
import { ContributionsPersonalData } from './personal-data';

/** The contributions part of the exchange: what it adds to ExchangeModule. The writing pages' fixed paths come first. */
export const CONTRIBUTIONS_CONTROLLERS: Type[] = [ContributionsPagesController, ItemPagesController, ContributionsApiController];
export const CONTRIBUTIONS_PROVIDERS: Provider[] = [ExchangeAccess, ContributionsReader, ContributionForms, ContributionsService, ExchangeDownloads, ContributionsPersonalData];
/** What other parts of the exchange (or other modules) may use: who may see unpublished work, and an item as its page shows it. */
export const CONTRIBUTIONS_EXPORTS: Array<Type | string | symbol> = [ExchangeAccess, ContributionsReader];
