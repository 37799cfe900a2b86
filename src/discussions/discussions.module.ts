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
import { CORE_EXPORTS, CORE_PROVIDERS } from './core';
import { DISCUSSION_ENTITIES } from './entities';

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
  controllers: [],
  providers: [UnitOfWork, ...CORE_PROVIDERS],
  exports: [...CORE_EXPORTS],
})
export class DiscussionsModule {}
