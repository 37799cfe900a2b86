import { Global, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { CatalogueService } from '../catalogue/catalogue.service';
import { CertificateDirectory } from '../common/certificate-directory';
import { LearningModule } from '../learning/learning.module';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';
import { MailModule } from '../mail/mail.module';
import { BadgesController } from './badges.controller';
import { Certificate } from './certificate.entity';
import { CertificatesApiController } from './certificates.api.controller';
import { CourseCompletedJob, IssueCertificateJob } from './certificates.jobs';
import { CertificatesPagesController } from './certificates.pages.controller';
import { CertificatesService } from './certificates.service';
import { CourseCertificateSubject } from './course-subject';
import { VerificationThrottle } from './verification-throttle';

/** The directory the course page uses to link to a learner's certificate. */
class ServiceCertificateDirectory extends CertificateDirectory {
  constructor(private readonly certificates: CertificatesService) {
    super();
  }

  async find(userId: number, subjectType: 'course' | 'webinar', subjectId: number) {
    const c = await this.certificates.forSubject(userId, subjectType, subjectId);
    return c ? { code: c.code, downloadPath: this.certificates.downloadPath(c.code), verifyPath: `/verify/${c.code}` } : null;
  }
}

// Global so the course page (learning module) can use the CertificateDirectory port without an import cycle.
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Certificate]), AccountsModule, MailModule, LearningModule, CatalogueModule],
  controllers: [CertificatesPagesController, CertificatesApiController, BadgesController],
  providers: [
    CertificatesService,
    VerificationThrottle,
    CourseCompletedJob,
    IssueCertificateJob,
    { provide: CertificateDirectory, inject: [CertificatesService], useFactory: (c: CertificatesService) => new ServiceCertificateDirectory(c) },
  ],
  exports: [CertificatesService, CertificateDirectory],
})
export class CertificatesModule implements OnModuleInit {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly catalogue: CatalogueService,
  ) {}

  onModuleInit(): void {
    this.certificates.registerSubject(new CourseCertificateSubject(this.learning, this.progress, this.catalogue));
  }
}
