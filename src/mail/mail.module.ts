import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MailMessage } from './mail-message.entity';
import { MailTemplates } from './mail-templates';
import { MailTransport, OutboxTransport, SmtpTransport } from './mail-transport';
import { MailDeliverJob, MailSweepJob } from './mail.jobs';
import { MailService } from './mail.service';
import { OutboxReader } from './outbox.reader';
import { MailPersonalData } from './personal-data';
import { PersonalDataModule } from '../common/personal-data';

@Module({
  imports: [TypeOrmModule.forFeature([MailMessage]), PersonalDataModule],
  providers: [
    MailService,
    MailDeliverJob,
    MailSweepJob,
    OutboxReader,
    MailPersonalData,
    { provide: MailTemplates, useFactory: () => new MailTemplates() },
    {
      provide: MailTransport,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.mail.smtpUrl ? new SmtpTransport(config.mail.smtpUrl, config.jobs.concurrency) : new OutboxTransport(config.mail.outboxDir)),
    },
  ],
  exports: [MailService, OutboxReader],
})
export class MailModule {}
