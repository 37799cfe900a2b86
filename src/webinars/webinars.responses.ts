import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MODERATIONS } from './webinars.dto';

/** The shapes the webinars API answers with, for the OpenAPI document (webinar-view.ts and the services build them). */

const PHASES = ['draft', 'scheduled', 'live', 'ended', 'cancelled'];
const dateTime = () => ApiProperty({ type: String, format: 'date-time' });

export class WebinarTopicResponse {
  @ApiProperty({ example: 3 }) id!: number;
  @ApiProperty({ example: 'cyber-security' }) slug!: string;
  @ApiProperty({ example: 'Cyber security' }) name!: string;
}

export class WebinarCardResponse {
  @ApiProperty({ example: 9 }) id!: number;
  @ApiProperty({ example: 'dspt-submission-what-assessors-look-for' }) slug!: string;
  @ApiProperty({ example: 'DSPT submission: what assessors look for' }) title!: string;
  @ApiProperty({ description: 'Plain text' }) summary!: string;
  @dateTime() startsAt!: Date;
  @dateTime() endsAt!: Date;
  @ApiProperty({ example: 60 }) durationMinutes!: number;
  @ApiProperty({ example: 100 }) capacity!: number;
  @ApiProperty({ example: 12 }) placesLeft!: number;
  @ApiProperty({ enum: PHASES }) phase!: string;
  @ApiProperty({ example: 1 }) cpdHours!: number;
  @ApiProperty({ type: WebinarTopicResponse, nullable: true }) topic!: WebinarTopicResponse | null;
  @ApiProperty() hasRecording!: boolean;
}

export class WebinarListResponse {
  @ApiProperty({ type: [WebinarCardResponse] }) items!: WebinarCardResponse[];
  @ApiProperty({ example: 14 }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 2 }) pages!: number;
}

export class WebinarRecordingResponse {
  @ApiProperty({ enum: ['video', 'link'], description: 'video: hosted here (watch on the webinar page; heartbeats credit attendance); link: elsewhere' }) kind!: 'video' | 'link';
  @ApiPropertyOptional({ type: Number, nullable: true, example: 3540, description: 'kind video: its length in seconds' }) durationSeconds?: number | null;
  @ApiPropertyOptional({ format: 'uri', description: 'kind link: where the recording is' }) url?: string;
}

export class WebinarRegistrationState {
  @ApiProperty({ example: 51 }) id!: number;
  @ApiProperty({ enum: ['registered', 'waitlisted'] }) status!: string;
  @ApiProperty({ type: Number, nullable: true, example: null, description: 'Place on the waitlist (1 = next), when waitlisted' }) waitlistPosition!: number | null;
}

export class WebinarDetailResponse {
  @ApiProperty({ example: 9 }) id!: number;
  @ApiProperty({ example: 'dspt-submission-what-assessors-look-for' }) slug!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'Plain text' }) summary!: string;
  @ApiProperty({ description: 'Markdown, as the author wrote it' }) description!: string;
  @ApiProperty({ type: [String], example: ['Dr Amira Patel, CSO'] }) presenters!: string[];
  @ApiProperty({ type: WebinarTopicResponse, nullable: true }) topic!: WebinarTopicResponse | null;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ format: 'date-time' }) endsAt!: string;
  @ApiProperty({ description: 'The start in words, in London time (as the page shows it)' }) startsAtLondon!: string;
  @ApiProperty({ example: 'Europe/London' }) timeZone!: string;
  @ApiProperty({ example: 60 }) durationMinutes!: number;
  @ApiProperty({ enum: PHASES }) status!: string;
  @ApiProperty({ example: 100 }) capacity!: number;
  @ApiProperty({ example: 12 }) placesLeft!: number;
  @ApiProperty({ example: 1 }) cpdHours!: number;
  @ApiProperty({ example: 45, description: 'Minutes of live attendance that earn a certificate' }) minAttendanceMinutes!: number;
  @ApiProperty({ format: 'date-time', description: 'When the join link opens for registrants' }) joinOpensAt!: string;
  @ApiProperty({ type: WebinarRecordingResponse, nullable: true }) recording!: WebinarRecordingResponse | null;
  @ApiProperty({ type: String, nullable: true }) cancelReason!: string | null;
  @ApiProperty({ example: '/webinars/dspt-submission-what-assessors-look-for/calendar.ics', description: 'The webinar as an iCalendar file (a registrant’s own invitation when fetched with their token)' }) calendarUrl!: string;
  @ApiProperty({ type: WebinarRegistrationState, nullable: true, description: 'The caller’s registration; null when anonymous, not registered or cancelled' }) registration!: WebinarRegistrationState | null;
}

export class RegistrationOutcomeResponse {
  @ApiProperty({ example: 51 }) registrationId!: number;
  @ApiProperty({ enum: ['registered', 'waitlisted'] }) status!: string;
  @ApiProperty({ type: Number, nullable: true, example: 3, description: 'Place on the waitlist (1 = next), when waitlisted' }) waitlistPosition!: number | null;
}

export class CancellationResponse {
  @ApiProperty({ description: 'False when there was nothing to cancel (cancelling twice is not an error)' }) cancelled!: boolean;
}

export class RecordingHeartbeatResponse {
  @ApiProperty({ example: 1200 }) coveredSeconds!: number;
  @ApiProperty({ example: 3540 }) durationSeconds!: number;
  @ApiProperty({ example: 34 }) coveredPercent!: number;
  @ApiProperty({ description: 'True once the caller has earned the certificate of attendance (live or by the recording)' }) credited!: boolean;
}

export class WebinarQuestionResponse {
  @ApiProperty({ example: 77 }) id!: number;
  @ApiProperty({ description: 'Plain text (escape it when showing it)' }) body!: string;
  @ApiProperty({ example: 4 }) votes!: number;
  @ApiProperty({ enum: ['open', 'answered', 'hidden'] }) status!: string;
  @ApiProperty({ example: 'Priya Shah', description: 'The asker’s name' }) askedBy!: string;
  @ApiProperty({ format: 'date-time' }) askedAt!: string;
}

export class VoteResponse {
  @ApiProperty({ example: 5, description: 'The question’s votes, this one included' }) votes!: number;
}

export class ModerationResponse {
  @ApiProperty({ enum: MODERATIONS }) status!: string;
}
