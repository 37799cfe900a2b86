import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { ApiProblems } from '../common/openapi';
import type { ComplianceStatus } from './compliance-rules';
import { ComplianceService, type LiveRequirement, type RequirementCounts } from './compliance.service';
import { AUDIENCES, DUE_KINDS } from './entities/requirement.entity';
import { ManagerScope } from './manager-scope';
import { REQUIREMENT_NOT_FOUND } from './requirements.service';

const STATUSES: ComplianceStatus[] = ['complete', 'due', 'overdue', 'not_due'];
const NOT_MANAGED = 'No organisation has that id that the caller manages (the same answer for one that does not exist)';
const idOf = (value: string) => (/^[1-9]\d{0,15}$/.test(value) ? Number(value) : Number.NaN);

export class RequirementCountsResponse {
  @ApiProperty({ example: 120, description: 'Active members the requirement applies to' }) audience!: number;
  @ApiProperty({ example: 96, description: 'Of those, people who meet it (a valid certificate for the course, within the renewal period)' }) complete!: number;
  @ApiProperty({ example: 14, description: 'Not met, due within 30 days or started' }) due!: number;
  @ApiProperty({ example: 4, description: 'Not met, past the due date' }) overdue!: number;
  @ApiProperty({ example: 6, description: 'Not met, due later than 30 days from now' }) notDue!: number;
  @ApiProperty({ example: 80, description: 'complete ÷ audience as a whole percentage, rounded down (100 for an empty audience)' }) percent!: number;
  @ApiProperty({ enum: ['green', 'amber', 'red'], description: 'red: someone is overdue; green: everyone is complete; amber otherwise' }) rag!: string;
}

export class RequirementResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 31 }) courseId!: number;
  @ApiProperty({ example: 'Information governance essentials' }) courseTitle!: string;
  @ApiProperty({ example: 'information-governance-essentials' }) courseSlug!: string;
  @ApiProperty({ enum: AUDIENCES }) audience!: string;
  @ApiProperty({ type: [String], example: ['Staff nurse'], description: 'With audience job_roles: the job roles it applies to' }) jobRoles!: string[];
  @ApiProperty({ type: [Number], example: [], description: 'With audience people: the user ids of the people named' }) people!: number[];
  @ApiProperty({ enum: DUE_KINDS, description: 'days: N days after joining or after the requirement was set, whichever is later; date: by a fixed day' }) dueKind!: string;
  @ApiProperty({ type: Number, nullable: true, example: 90 }) dueDays!: number | null;
  @ApiProperty({ type: String, nullable: true, format: 'date', example: null, description: 'With dueKind date: the London calendar day' }) dueDate!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 12, description: 'A certificate counts this many months after it was achieved; null: for ever' }) renewalMonths!: number | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
  @ApiProperty({ type: RequirementCountsResponse }) compliance!: RequirementCountsResponse;
}

export class RequirementPersonResponse {
  @ApiProperty({ example: 41 }) userId!: number;
  @ApiProperty({ example: 'Priya Shah' }) name!: string;
  @ApiProperty({ example: 'priya.shah@nhs.net' }) email!: string;
  @ApiProperty({ example: 'Staff nurse' }) jobRole!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ type: String, format: 'date', nullable: true, example: '2027-03-31', description: 'The London day it is (next) due; for people complete with renewal, the day their certificate expires; null when complete for ever' })
  dueOn!: string | null;
  @ApiProperty({ type: String, format: 'date', nullable: true, example: null, description: 'When complete: the London day the certificate that meets it was achieved' }) completedOn!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 40, description: 'Days from today (Europe/London) to the due date; negative when overdue' }) daysLeft!: number | null;
}

export class RequirementDetailResponse extends RequirementResponse {
  @ApiProperty({ type: [RequirementPersonResponse], description: 'Everyone it applies to (active members), by name' }) members!: RequirementPersonResponse[];
}

function requirementBody(requirement: LiveRequirement, counts: RequirementCounts): RequirementResponse {
  return {
    id: requirement.id,
    courseId: requirement.courseId,
    courseTitle: requirement.courseTitle,
    courseSlug: requirement.courseSlug,
    audience: requirement.audience,
    jobRoles: requirement.jobRoleNames,
    people: [...requirement.people.keys()].sort((a, b) => a - b),
    dueKind: requirement.dueKind,
    dueDays: requirement.dueDays,
    dueDate: requirement.dueDate,
    renewalMonths: requirement.renewalMonths,
    createdAt: requirement.createdAt,
    updatedAt: requirement.updatedAt,
    compliance: counts,
  };
}

/** Required learning as JSON, for organisation managers and administrators: the same figures as the pages. */
@ApiTags('organisations')
@ApiBearerAuth()
@Roles('org_manager')
@Controller('api/v1/organisations/:id/requirements')
@ApiParam({ name: 'id', type: Number, description: 'The organisation id', example: 7 })
export class RequirementsApiController {
  constructor(
    private readonly scope: ManagerScope,
    private readonly compliance: ComplianceService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listOrganisationRequirements', summary: "The organisation's required courses (not archived), by course title, each with its compliance" })
  @ApiOkResponse({ type: [RequirementResponse] })
  @ApiProblems({ 404: NOT_MANAGED })
  async list(@Param('id') id: string, @SignedInUser() viewer: CurrentUser): Promise<RequirementResponse[]> {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    return (await this.compliance.overview(organisation.id)).map(({ requirement, counts }) => requirementBody(requirement, counts));
  }

  @Get(':rid')
  @ApiParam({ name: 'rid', type: Number, description: 'The requirement id', example: 12 })
  @ApiOperation({ operationId: 'getOrganisationRequirement', summary: 'One required course with its compliance and everyone it applies to, with their status, due date and completion' })
  @ApiOkResponse({ type: RequirementDetailResponse })
  @ApiProblems({ 404: `${NOT_MANAGED}; or the organisation has no such requirement (archived ones included)` })
  async detail(@Param('id') id: string, @Param('rid') rid: string, @SignedInUser() viewer: CurrentUser): Promise<RequirementDetailResponse> {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const requirementId = idOf(rid);
    const result = Number.isNaN(requirementId) ? null : await this.compliance.audience(organisation.id, requirementId);
    if (!result) throw new NotFound(REQUIREMENT_NOT_FOUND);
    return {
      ...requirementBody(result.requirement, result.counts),
      members: result.people.map((p) => ({ userId: p.userId, name: p.name, email: p.email, jobRole: p.jobRole, status: p.status, dueOn: p.dueOn, completedOn: p.completedOn, daysLeft: p.daysLeft })),
    };
  }
}
