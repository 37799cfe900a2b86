import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { PersonalDataModule } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import { LearningModule } from '../learning/learning.module';
import { MailModule } from '../mail/mail.module';
import { InAppNotification, MailPreferences, NotificationSetting, TopicFollow } from './entities';
import { IN_APP_CONTROLLERS, IN_APP_EXPORTS, IN_APP_PROVIDERS } from './in-app';
import { NotificationsController } from './notifications.controller';
import { CourseNudgesJob, WeeklyDigestJob } from './notifications.jobs';
import { NotificationsService } from './notifications.service';
import { NotificationsPersonalData } from './personal-data';

@Module({
  imports: [TypeOrmModule.forFeature([MailPreferences, TopicFollow, InAppNotification, NotificationSetting]), AccountsModule, CatalogueModule, LearningModule, MailModule, PersonalDataModule],
  controllers: [NotificationsController, ...IN_APP_CONTROLLERS],
  providers: [NotificationsService, CourseNudgesJob, WeeklyDigestJob, NotificationsPersonalData, UnitOfWork, ...IN_APP_PROVIDERS],
  exports: [NotificationsService, ...IN_APP_EXPORTS],
})
export class NotificationsModule {}
