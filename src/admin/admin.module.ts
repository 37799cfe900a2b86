import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { CertificatesModule } from '../certificates/certificates.module';
import { PersonalDataModule } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import { LearningModule } from '../learning/learning.module';
import { HealthModule } from '../health/health.module';
import { MailModule } from '../mail/mail.module';
import { OrganisationsModule } from '../organisations/organisations.module';
import { AdminAuditController } from './admin-audit.controller';
import { AdminFiguresController } from './admin-figures.controller';
import { AdminOrganisationsController } from './admin-organisations.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminController } from './admin.controller';
import { LearnerActivity, LearnerActivityJob, LearnerActivityMonth } from './learner-activity';
import { SiteFiguresReader } from './site-figures.reader';

/**
 * The administrator's pages: people, organisations, the audit log, site figures and the outbox. Only controllers,
 * views and the figures' read-model (with the months learners were active) live here: the changes are the accounts, organisations and certificates
 * modules' services.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LearnerActivityMonth]), MailModule, AccountsModule, OrganisationsModule, AuditModule, LearningModule, CertificatesModule, HealthModule, PersonalDataModule],
  controllers: [AdminController, AdminUsersController, AdminOrganisationsController, AdminAuditController, AdminFiguresController],
  providers: [SiteFiguresReader, LearnerActivity, LearnerActivityJob, UnitOfWork],
})
export class AdminModule {}
