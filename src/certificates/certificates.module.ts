import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { CatalogueService } from '../catalogue/catalogue.service';
import { CertificateDirectory, CertificateDirectoryModule } from '../common/certificate-directory';
import { StaffVisibilityModule } from '../common/staff-visibility';
import { PersonalDataModule } from '../common/personal-data';
import { CertificatesPersonalData } from './personal-data';
import { LearningModule } from '../learning/learning.module';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';
import { UnitOfWork } from '../database/unit-of-work';
import { MailModule } from '../mail/mail.module';
import { BadgesController } from './badges.controller';
import { Certificate } from './certificate.entity';
import { CertificatesApiController } from './certificates.api.controller';
import { CourseCompletedJob, IssueCertificateJob } from './certificates.jobs';
import { CertificatesPagesController } from './certificates.pages.controller';
import { CertificatesService } from './certificates.service';
import { CourseCertificateSubject } from './course-subject';
import { VerificationThrottle } from './verification-throttle';

@Module({
  imports: [TypeOrmModule.forFeature([Certificate]), AccountsModule, MailModule, LearningModule, CatalogueModule, CertificateDirectoryModule, StaffVisibilityModule, PersonalDataModule, AuditModule],
  controllers: [CertificatesPagesController, CertificatesApiController, BadgesController],
  providers: [
    CertificatesService,
    VerificationThrottle,
    CourseCompletedJob,
    IssueCertificateJob,
    CertificatesPersonalData,
    UnitOfWork,
  ],
  exports: [CertificatesService],
})
export class CertificatesModule implements OnModuleInit {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly catalogue: CatalogueService,
    private readonly directory: CertificateDirectory,
  ) {}

  onModuleInit(): void {
    this.certificates.registerSubject(new CourseCertificateSubject(this.learning, this.progress, this.catalogue));
    this.directory.use(async (userId, subjectType, subjectId) => {
      const c = await this.certificates.forSubject(userId, subjectType, subjectId);
      return c ? { code: c.code, downloadPath: this.certificates.downloadPath(c.code), verifyPath: `/verify/${c.code}` } : null;
    });
  }
}
