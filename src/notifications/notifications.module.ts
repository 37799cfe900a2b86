import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { LearningModule } from '../learning/learning.module';
import { MailModule } from '../mail/mail.module';
import { MailPreferences, TopicFollow } from './entities';
import { NotificationsController } from './notifications.controller';
import { CourseNudgesJob, WeeklyDigestJob } from './notifications.jobs';
import { NotificationsService } from './notifications.service';

@Module({
  imports: [TypeOrmModule.forFeature([MailPreferences, TopicFollow]), AccountsModule, CatalogueModule, LearningModule, MailModule],
  controllers: [NotificationsController],
  providers: [NotificationsService, CourseNudgesJob, WeeklyDigestJob],
  exports: [NotificationsService],
})
export class NotificationsModule {}
