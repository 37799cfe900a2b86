import { Module, OnModuleInit } from '@nestjs/common';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { CertificatesModule } from '../certificates/certificates.module';
import { CertificatesService } from '../certificates/certificates.service';
import { CertificateDirectoryModule } from '../common/certificate-directory';
import { PersonalDataModule } from '../common/personal-data';
import { RelatedExchange, RelatedExchangeModule } from '../common/related-exchange';
import { UnitOfWork } from '../database/unit-of-work';
import { LiveModule } from '../live/live.module';
import { MailModule } from '../mail/mail.module';
import { AttendanceService } from './attendance.service';
import { WebinarCalendarController } from './calendar.controller';
import { Webinar, WebinarAttendance, WebinarQuestion, WebinarQuestionVote, WebinarRegistration } from './entities';
import { QuestionsHub } from './questions-hub';
import { QuestionsService } from './questions.service';
import { WebinarMailer } from './webinar-mailer';
import { WebinarCertificateSubject } from './webinar-subject';
import { WebinarsPersonalData } from './personal-data';
import { WebinarsApiController } from './webinars.api.controller';
import { WebinarsAuthoringController } from './webinars.authoring.controller';
import { WebinarsPagesController } from './webinars.pages.controller';
import { WebinarCreditSweepJob, WebinarReminderJob, WebinarRemindersSweepJob } from './webinars.jobs';
import { WebinarsService } from './webinars.service';

@Module({
  imports: [TypeOrmModule.forFeature([Webinar, WebinarRegistration, WebinarAttendance, WebinarQuestion, WebinarQuestionVote]), AccountsModule, CatalogueModule, MailModule, CertificatesModule, CertificateDirectoryModule, LiveModule, PersonalDataModule, RelatedExchangeModule],
  controllers: [WebinarsApiController, WebinarCalendarController, WebinarsPagesController, WebinarsAuthoringController],
  providers: [
    WebinarsService,
    AttendanceService,
    QuestionsService,
    QuestionsHub,
    WebinarMailer,
    UnitOfWork,
    WebinarReminderJob,
    WebinarRemindersSweepJob,
    WebinarCreditSweepJob,
    WebinarsPersonalData,
  ],
  exports: [WebinarsService, AttendanceService],
})
export class WebinarsModule implements OnModuleInit {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly attendance: AttendanceService,
    @InjectRepository(Webinar) private readonly webinars: Repository<Webinar>,
    private readonly related: RelatedExchange,
    private readonly webinarsService: WebinarsService,
  ) {}

  /**
   * Certificates of attendance go through the certificates job, like certificates of completion; an exchange item's
   * page lists the webinars on its topics.
   */
  onModuleInit(): void {
    this.certificates.registerSubject(new WebinarCertificateSubject(this.attendance, this.webinars));
    this.related.useWebinars(async (topicIds, limit) => (await this.webinarsService.onTopics(topicIds, limit)).map((w) => ({ ...w, href: `/webinars/${w.slug}` })));
  }
}
