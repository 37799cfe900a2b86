import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { PersonalDataModule } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import { ExchangeModule } from '../exchange/exchange.module';
import { LearningModule } from '../learning/learning.module';
import { LiveModule } from '../live/live.module';
import { MailModule } from '../mail/mail.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { WebinarsModule } from '../webinars/webinars.module';
import { API_CONTROLLERS, API_EXPORTS, API_PROVIDERS } from './api';
import { CORE_EXPORTS, CORE_PROVIDERS } from './core';
import { DISCUSSION_ENTITIES } from './entities';
import { THREADS_CONTROLLERS, THREADS_EXPORTS, THREADS_PROVIDERS } from './threads';
import { ENTRY_CONTROLLERS, ENTRY_EXPORTS, ENTRY_PROVIDERS } from './entry';
import { SEARCH_CONTROLLERS, SEARCH_EXPORTS, SEARCH_PROVIDERS } from './search';
import { COMMUNITIES_CONTROLLERS, COMMUNITIES_EXPORTS, COMMUNITIES_PROVIDERS } from './communities';
import { MODERATION_CONTROLLERS, MODERATION_EXPORTS, MODERATION_PROVIDERS } from './moderation';
import { FAN_OUT_CONTROLLERS, FAN_OUT_EXPORTS, FAN_OUT_PROVIDERS } from './fan-out';
import { LIVE_CONTROLLERS, LIVE_EXPORTS, LIVE_PROVIDERS } from './live';

/**
 * Discussions: a discussion on every course, lesson, webinar and exchange item, and communities (topic spaces made by
 * administrators); threads, replies, votes, accepted answers, follows, mentions; moderation of reported and held
 * posts. Each part lists its own in its index.ts. See docs/discussions.md.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature(DISCUSSION_ENTITIES),
    AccountsModule,
    AuditModule,
    CatalogueModule,
    ExchangeModule,
    LearningModule,
    LiveModule,
    MailModule,
    NotificationsModule,
    PersonalDataModule,
    WebinarsModule,
  ],
  controllers: [...THREADS_CONTROLLERS, ...ENTRY_CONTROLLERS, ...SEARCH_CONTROLLERS, ...COMMUNITIES_CONTROLLERS, ...MODERATION_CONTROLLERS, ...FAN_OUT_CONTROLLERS, ...LIVE_CONTROLLERS, ...API_CONTROLLERS],
  providers: [UnitOfWork, ...CORE_PROVIDERS, ...THREADS_PROVIDERS, ...ENTRY_PROVIDERS, ...SEARCH_PROVIDERS, ...COMMUNITIES_PROVIDERS, ...MODERATION_PROVIDERS, ...FAN_OUT_PROVIDERS, ...LIVE_PROVIDERS, ...API_PROVIDERS],
  exports: [...CORE_EXPORTS, ...THREADS_EXPORTS, ...ENTRY_EXPORTS, ...SEARCH_EXPORTS, ...COMMUNITIES_EXPORTS, ...MODERATION_EXPORTS, ...FAN_OUT_EXPORTS, ...LIVE_EXPORTS, ...API_EXPORTS],
})
export class DiscussionsModule {}
