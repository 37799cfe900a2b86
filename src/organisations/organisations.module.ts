import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit-trail';
import { Membership } from './entities/membership.entity';
import { OrganisationDomain } from './entities/organisation-domain.entity';
import { Organisation } from './entities/organisation.entity';

/** Organisations, their verified domains and memberships, required learning and the manager's view. */
@Module({
  imports: [TypeOrmModule.forFeature([Organisation, OrganisationDomain, Membership]), AuditModule],
  providers: [],
  exports: [],
})
export class OrganisationsModule {}
