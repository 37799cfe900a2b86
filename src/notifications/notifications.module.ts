import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { PersonalDataModule } from '../common/personal-data';
import { LearningModule } from '../learning/learning.module';
import { MailModule } from '../mail/mail.module';
import { InAppNotification, MailPreferences, NotificationSetting, TopicFollow } from './entities';
import { NotificationsController } from './notifications.controller';
import { CourseNudgesJob, WeeklyDigestJob } from './notifications.jobs';
import { NotificationsService } from './notifications.service';
import { NotificationsPersonalData } from './personal-data';

@Module({
  imports: [TypeOrmModule.forFeature([MailPreferences, TopicFollow, InAppNotification, NotificationSetting]), AccountsModule, CatalogueModule, LearningModule, MailModule, PersonalDataModule],
  controllers: [NotificationsController],
  providers: [NotificationsService, CourseNudgesJob, WeeklyDigestJob, NotificationsPersonalData],
  exports: [NotificationsService],
})
export class NotificationsModule {}
