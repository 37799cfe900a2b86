import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit-trail';
import { PersonalDataModule } from '../common/personal-data';
import { StaffVisibilityModule } from '../common/staff-visibility';
import { UnitOfWork } from '../database/unit-of-work';
import { Membership } from './entities/membership.entity';
import { OrganisationDomain } from './entities/organisation-domain.entity';
import { Organisation } from './entities/organisation.entity';
import { ManagerScope } from './manager-scope';
import { ComplianceExport } from './compliance-export';
import { RequirementDigestJob, RequirementMailer, RequirementNoticesJob } from './organisations.jobs';
import { RequirementsApiController } from './requirements.api.controller';
import { RequirementsPagesController } from './requirements.pages.controller';
import { RequirementsService } from './requirements.service';
import { ComplianceService } from './compliance.service';
import { OrganisationRequirement } from './entities/requirement.entity';
import { RequirementJobRole } from './entities/requirement-job-role.entity';
import { RequirementPerson } from './entities/requirement-person.entity';
import { RequirementNotice } from './entities/requirement-notice.entity';
import { RequirementDigest } from './entities/requirement-digest.entity';
import { AccountsModule } from '../accounts/accounts.module';
import { OrganisationJoiningModule } from '../common/organisation-joining';
import { MailModule } from '../mail/mail.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { JoiningPagesController } from './joining.pages.controller';
import { MembershipsService } from './memberships.service';
import { OrganisationDirectory } from './organisation-directory.service';
import { OrganisationPicker } from './organisation-picker';
import { OrganisationsApiController } from './organisations.api.controller';
import { ManagerApiController } from './manager.api.controller';
import { ManagerPagesController } from './manager.pages.controller';
import { StaffReportService } from './staff-report.service';
import { OrganisationsPersonalData } from './personal-data';
import { OrganisationAdminService } from './organisation-admin.service';

/** Organisations, their verified domains and memberships, required learning and the manager's view. */
@Module({
  imports: [TypeOrmModule.forFeature([Organisation, OrganisationDomain, Membership, OrganisationRequirement, RequirementJobRole, RequirementPerson, RequirementNotice, RequirementDigest]), AuditModule, StaffVisibilityModule, PersonalDataModule, AccountsModule, MailModule, NotificationsModule, OrganisationJoiningModule],
  controllers: [RequirementsApiController, RequirementsPagesController, ManagerPagesController, ManagerApiController, JoiningPagesController, OrganisationsApiController],
  providers: [RequirementDigestJob, RequirementNoticesJob, RequirementMailer, ComplianceExport, RequirementsService, ComplianceService, OrganisationDirectory, MembershipsService, OrganisationPicker, StaffReportService, OrganisationsPersonalData, ManagerScope, OrganisationAdminService, UnitOfWork],
  exports: [ComplianceService, ManagerScope, OrganisationAdminService, MembershipsService, OrganisationDirectory],
})
export class OrganisationsModule {}
