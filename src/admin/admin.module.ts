import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { CertificatesModule } from '../certificates/certificates.module';
import { UnitOfWork } from '../database/unit-of-work';
import { LearningModule } from '../learning/learning.module';
import { MailModule } from '../mail/mail.module';
import { OrganisationsModule } from '../organisations/organisations.module';
import { AdminAuditController } from './admin-audit.controller';
import { AdminFiguresController } from './admin-figures.controller';
import { AdminOrganisationsController } from './admin-organisations.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminController } from './admin.controller';
import { SiteFiguresReader } from './site-figures.reader';

/**
 * The administrator's pages: people, organisations, the audit log, site figures and the outbox. Only controllers,
 * views and a read-model of the figures live here: the changes are the accounts, organisations and certificates
 * modules' services.
 */
@Module({
  imports: [MailModule, AccountsModule, OrganisationsModule, AuditModule, LearningModule, CertificatesModule],
  controllers: [AdminController, AdminUsersController, AdminOrganisationsController, AdminAuditController, AdminFiguresController],
  providers: [SiteFiguresReader, UnitOfWork],
})
export class AdminModule {}
