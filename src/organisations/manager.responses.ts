import { ApiProperty } from '@nestjs/swagger';
import { MEMBERSHIP_STATUSES } from './organisation-kinds';

/** The shapes the manager's API answers with, for the OpenAPI document. */

export class ManagedOrganisationFiguresResponse {
  @ApiProperty({ example: 212, description: 'Active members' }) activeStaff!: number;
  @ApiProperty({ example: 3, description: 'People asking to join, waiting for a manager' }) pendingRequests!: number;
  @ApiProperty({ example: 640, description: "Active members' enrolments that are not withdrawn" }) enrolments!: number;
  @ApiProperty({ example: 310, description: 'Courses active members completed since 1 January (Europe/London)' }) completionsThisYear!: number;
  @ApiProperty({ example: 402.5, description: "CPD hours of active members' valid certificates issued since 1 January (Europe/London)" }) cpdHoursThisYear!: number;
  @ApiProperty({ example: 2026, description: 'The year "this year" means' }) year!: number;
}

export class MonthCompletionsResponse {
  @ApiProperty({ example: '2026-03', description: 'The month (Europe/London), YYYY-MM' }) month!: string;
  @ApiProperty({ example: 'Mar 2026' }) label!: string;
  @ApiProperty({ example: 27, description: 'Courses active members completed in the month' }) completions!: number;
}

export class ManagedOrganisationResponse {
  @ApiProperty({ example: 7 }) id!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) name!: string;
  @ApiProperty({ type: ManagedOrganisationFiguresResponse }) figures!: ManagedOrganisationFiguresResponse;
  @ApiProperty({ type: [MonthCompletionsResponse], description: 'The last 12 months, oldest first, this month last' }) completionsPerMonth!: MonthCompletionsResponse[];
}

export class StaffLearningResponse {
  @ApiProperty({ example: 4, description: 'Enrolments not withdrawn' }) enrolled!: number;
  @ApiProperty({ example: 1, description: 'Started and not completed' }) inProgress!: number;
  @ApiProperty({ example: 2 }) completed!: number;
  @ApiProperty({ example: 3, description: 'Valid certificates (courses and webinars)' }) certificates!: number;
  @ApiProperty({ example: 2.5, description: 'CPD hours of valid certificates issued since 1 January (Europe/London)' }) cpdHoursThisYear!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Their latest learning activity or sign-in' }) lastActiveAt!: Date | null;
}

export class StaffMemberResponse {
  @ApiProperty({ example: 41 }) userId!: number;
  @ApiProperty({ example: 'Priya Shah' }) name!: string;
  @ApiProperty({ example: 'priya.shah@nhs.net' }) email!: string;
  @ApiProperty({ example: 'Staff nurse' }) jobRole!: string;
  @ApiProperty({ enum: MEMBERSHIP_STATUSES }) status!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the membership last became active' }) joinedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When they left (status left)' }) leftAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', description: 'When they asked to join' }) requestedAt!: Date;
  @ApiProperty({
    type: StaffLearningResponse,
    nullable: true,
    description: 'Their learning; null for people who have not joined (pending requests), whose learning managers may not see',
  })
  learning!: StaffLearningResponse | null;
}

export class StaffPageResponse {
  @ApiProperty({ type: [StaffMemberResponse], description: 'Sorted by name' }) items!: StaffMemberResponse[];
  @ApiProperty({ example: 212, description: 'People matching, over all pages' }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 9 }) pages!: number;
  @ApiProperty({ example: 25 }) perPage!: number;
}

export class PersonCertificateResponse {
  @ApiProperty({ example: '7K3M-Q9XD-2FHT' }) code!: string;
  @ApiProperty({ type: String, format: 'date-time' }) issuedAt!: Date;
  @ApiProperty({ example: 1.5 }) cpdHours!: number;
  @ApiProperty({ type: String, format: 'uri', nullable: true, description: 'The PDF; fetch it with the same bearer token. Null for a person who has left (managers may download only active members’ certificates)' })
  downloadUrl!: string | null;
}

export class PersonCourseResponse {
  @ApiProperty({ example: 4 }) courseId!: number;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
  @ApiProperty({ example: 'clinical-risk-in-practice' }) slug!: string;
  @ApiProperty({ enum: ['active', 'withdrawn', 'completed'], description: 'active: enrolled and not completed' }) status!: string;
  @ApiProperty({ example: 60, minimum: 0, maximum: 100 }) progressPercent!: number;
  @ApiProperty({ type: String, format: 'date-time' }) enrolledAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) lastActivityAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completedAt!: Date | null;
  @ApiProperty({ type: PersonCertificateResponse, nullable: true, description: 'Its latest valid certificate' }) certificate!: PersonCertificateResponse | null;
}

export class PersonWebinarResponse {
  @ApiProperty({ example: 9 }) webinarId!: number;
  @ApiProperty({ example: 'Safety cases that get read' }) title!: string;
  @ApiProperty({ example: 'safety-cases-that-get-read' }) slug!: string;
  @ApiProperty({ type: String, format: 'date-time' }) startsAt!: Date;
  @ApiProperty({ example: true }) attendedLive!: boolean;
  @ApiProperty({ example: 45, description: 'From their first join (or the start) to the end' }) liveMinutes!: number;
  @ApiProperty({ example: 0, description: 'Minutes of the recording they watched' }) recordingMinutes!: number;
  @ApiProperty({ example: 45, description: 'Live and recording minutes together, at most the webinar’s length' }) minutes!: number;
  @ApiProperty({ example: true, description: 'Whether they qualified for a certificate of attendance' }) credited!: boolean;
}

export class PersonWebinarsResponse {
  @ApiProperty({ example: 2, description: 'Webinars they joined live or watched some of the recording of' }) attended!: number;
  @ApiProperty({ example: 95 }) minutes!: number;
  @ApiProperty({ type: [PersonWebinarResponse], description: 'Latest first' }) items!: PersonWebinarResponse[];
}

export class PersonLearningResponse {
  @ApiProperty({ example: 41 }) userId!: number;
  @ApiProperty({ example: 'Priya Shah' }) name!: string;
  @ApiProperty({ example: 'priya.shah@nhs.net' }) email!: string;
  @ApiProperty({ example: 'Staff nurse' }) jobRole!: string;
  @ApiProperty({ enum: MEMBERSHIP_STATUSES }) status!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) joinedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) leftAt!: Date | null;
  @ApiProperty({ type: StaffLearningResponse }) figures!: StaffLearningResponse;
  @ApiProperty({ type: [PersonCourseResponse], description: 'Latest activity first' }) courses!: PersonCourseResponse[];
  @ApiProperty({ type: PersonWebinarsResponse }) webinars!: PersonWebinarsResponse;
}

export class CourseFiguresResponse {
  @ApiProperty({ example: 4 }) courseId!: number;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
  @ApiProperty({ example: 'clinical-risk-in-practice' }) slug!: string;
  @ApiProperty({ example: 40, description: 'Active members enrolled (not withdrawn)' }) enrolled!: number;
  @ApiProperty({ example: 12, description: 'Started and not completed' }) inProgress!: number;
  @ApiProperty({ example: 25 }) completed!: number;
  @ApiProperty({ example: true, description: 'Whether the organisation requires it (required learning)' }) required!: boolean;
  @ApiProperty({ example: 3, description: 'Active members overdue on a requirement of it; 0 when it is not required' }) overdue!: number;
}
