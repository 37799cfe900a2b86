import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit-trail';
import { StaffVisibilityModule } from '../common/staff-visibility';
import { Membership } from './entities/membership.entity';
import { OrganisationDomain } from './entities/organisation-domain.entity';
import { Organisation } from './entities/organisation.entity';
import { ManagerScope } from './manager-scope';
import { ManagerApiController } from './manager.api.controller';
import { ManagerPagesController } from './manager.pages.controller';
import { StaffReportService } from './staff-report.service';

/** Organisations, their verified domains and memberships, required learning and the manager's view. */
@Module({
  imports: [TypeOrmModule.forFeature([Organisation, OrganisationDomain, Membership]), AuditModule, StaffVisibilityModule],
  controllers: [ManagerPagesController, ManagerApiController],
  providers: [StaffReportService, ManagerScope],
  exports: [ManagerScope],
})
export class OrganisationsModule {}
