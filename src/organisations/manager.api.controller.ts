import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { ApiProblems } from '../common/openapi';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { ManagerScope } from './manager-scope';
import { idParam } from './manager.pages.controller';
import { StaffQueryDto } from './manager.dto';
import { CourseFiguresResponse, ManagedOrganisationResponse, PersonLearningResponse, StaffPageResponse } from './manager.responses';
import { StaffReportService } from './staff-report.service';

const NOT_MANAGED = 'No organisation has that id that the caller manages (the same answer for one that does not exist)';

/** The manager's view as JSON: the same figures as the pages, for organisation managers and administrators. */
@ApiTags('organisations')
@ApiBearerAuth()
@Roles('org_manager')
@Controller('api/v1/organisations/:id')
@ApiParam({ name: 'id', type: 'integer', description: 'The organisation id', example: 7 })
export class ManagerApiController {
  constructor(
    private readonly scope: ManagerScope,
    private readonly report: StaffReportService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getOrganisationSummary', summary: 'An organisation the caller manages: headline figures and completions per month for the last 12 months' })
  @ApiOkResponse({ type: ManagedOrganisationResponse })
  @ApiProblems({ 404: NOT_MANAGED })
  async summary(@Param('id') id: string, @SignedInUser() viewer: CurrentUser): Promise<ManagedOrganisationResponse> {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const { completionsPerMonth, ...figures } = await this.report.organisationFigures(organisation.id);
    return { id: organisation.id, name: organisation.name, figures, completionsPerMonth };
  }

  @Get('staff')
  @ApiOperation({ operationId: 'listOrganisationStaff', summary: "The organisation's members (active by default, or pending or left): search by name or e-mail, filter by job role, 25 a page, by name" })
  @ApiOkResponse({ type: StaffPageResponse })
  @ApiProblems({ 404: NOT_MANAGED })
  async staff(@Param('id') id: string, @Query() query: StaffQueryDto, @SignedInUser() viewer: CurrentUser): Promise<StaffPageResponse> {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const page = await this.report.staffPage(organisation.id, query);
    return { ...page, items: page.items.map(({ viewable: _viewable, ...row }) => row) };
  }

  @Get('staff/:userId')
  @ApiParam({ name: 'userId', type: 'integer', description: "The person's user id", example: 41 })
  @ApiOperation({ operationId: 'getOrganisationStaffMember', summary: "One member's learning: each course's progress, completion and certificate, CPD hours this year and webinar attendance" })
  @ApiOkResponse({ type: PersonLearningResponse })
  @ApiProblems({ 404: `${NOT_MANAGED}; or the person is not a member of it (people who never joined included)` })
  async person(@Param('id') id: string, @Param('userId') userId: string, @SignedInUser() viewer: CurrentUser): Promise<PersonLearningResponse> {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const { lastActiveAt, figures, ...person } = await this.report.person(organisation.id, idParam(userId));
    // The certificates module lets a manager download an active member's certificates (administrators any).
    const mayDownload = person.status === 'active' || viewer.role === 'admin';
    const downloadUrl = (code: string) => (mayDownload ? `${this.config.publicUrl}/certificates/${code}.pdf` : null);
    return {
      ...person,
      figures: { ...figures, lastActiveAt },
      courses: person.courses.map((c) => ({ ...c, certificate: c.certificate ? { ...c.certificate, downloadUrl: downloadUrl(c.certificate.code) } : null })),
    };
  }

  @Get('courses')
  @ApiOperation({ operationId: 'listOrganisationCourses', summary: 'Each course active members are enrolled in or the organisation requires, by title: enrolled, in progress, completed and overdue' })
  @ApiOkResponse({ type: [CourseFiguresResponse] })
  @ApiProblems({ 404: NOT_MANAGED })
  async courses(@Param('id') id: string, @SignedInUser() viewer: CurrentUser): Promise<CourseFiguresResponse[]> {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    return this.report.courses(organisation.id);
  }
}
