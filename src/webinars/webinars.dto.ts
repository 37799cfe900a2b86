import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';
import { emptyToUndefined, markdownText, PageNumber, trimmed, wholeNumber } from '../common/form-fields';

const httpUrl = { protocols: ['https', 'http'], require_protocol: true, require_tld: false };

/** The form an author fills in to schedule or edit a webinar. Date and time are London wall-clock time. */
export class WebinarDetailsDto {
  @trimmed()
  @IsString({ message: 'Enter a title' })
  @IsNotEmpty({ message: 'Enter a title' })
  @MaxLength(160, { message: 'Title must be 160 characters or fewer' })
  title!: string;

  @trimmed()
  @IsString({ message: 'Enter a summary' })
  @IsNotEmpty({ message: 'Enter a summary' })
  @MaxLength(300, { message: 'Summary must be 300 characters or fewer' })
  summary!: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter a description' })
  @MaxLength(20_000, { message: 'Description must be 20,000 characters or fewer' })
  description?: string;

  @markdownText()
  @IsString({ message: 'Name at least one presenter' })
  @IsNotEmpty({ message: 'Name at least one presenter' })
  @MaxLength(2_000, { message: 'Presenters must be 2,000 characters or fewer' })
  presenters!: string;

  @wholeNumber()
  @IsOptional()
  @IsInt({ message: 'Choose a topic from the list' })
  topicId?: number;

  @trimmed()
  @IsString({ message: 'Enter the date as YYYY-MM-DD' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'Enter the date as YYYY-MM-DD, for example 2026-12-01' })
  @IsDateString({ strict: true }, { message: 'Enter a real date, for example 2026-12-01' })
  date!: string;

  @trimmed()
  @IsString({ message: 'Enter the start time as HH:MM' })
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'Enter the start time as HH:MM on the 24-hour clock, for example 14:00' })
  time!: string;

  @wholeNumber()
  @Min(10, { message: 'A webinar must last at least 10 minutes' })
  @Max(480, { message: 'A webinar must last 480 minutes (8 hours) or less' })
  @IsInt({ message: 'Enter the length as a whole number of minutes' })
  durationMinutes!: number;

  @wholeNumber()
  @Min(1, { message: 'A webinar needs at least 1 place' })
  @Max(100_000, { message: 'A webinar can have at most 100,000 places' })
  @IsInt({ message: 'Enter the number of places as a whole number' })
  capacity!: number;

  @emptyToUndefined()
  @IsOptional()
  @IsUrl(httpUrl, { message: 'Enter the meeting link as a full web address starting with https://' })
  @MaxLength(500, { message: 'The meeting link must be 500 characters or fewer' })
  joinUrl?: string;

  @emptyToUndefined()
  @IsOptional()
  @IsUrl(httpUrl, { message: 'Enter the stream link as a full web address starting with https://' })
  @MaxLength(500, { message: 'The stream link must be 500 characters or fewer' })
  streamUrl?: string;

  @trimmed()
  @IsString({ message: 'Enter the CPD hours, for example 1 or 1.5' })
  @Matches(/^\d{1,2}(\.\d{1,2})?$/, { message: 'Enter the CPD hours as a number, for example 1 or 1.5' })
  cpdHours!: string;

  @wholeNumber()
  @Min(1, { message: 'The minimum attendance must be at least 1 minute' })
  @IsInt({ message: 'Enter the minimum attendance as a whole number of minutes' })
  minAttendanceMinutes!: number;
}

export class CancelWebinarDto {
  @trimmed()
  @IsString({ message: 'Say why the webinar is cancelled' })
  @IsNotEmpty({ message: 'Say why the webinar is cancelled: registrants will read it' })
  @MaxLength(500, { message: 'The reason must be 500 characters or fewer' })
  reason!: string;
}

export class RecordingLinkDto {
  @trimmed()
  @IsUrl(httpUrl, { message: 'Enter the recording link as a full web address starting with https://' })
  @MaxLength(500, { message: 'The recording link must be 500 characters or fewer' })
  recordingUrl!: string;
}

export const QUESTION_MAX_LENGTH = 500;

export class QuestionDto {
  @ApiProperty({ example: 'How did you get clinicians to trust the new alerts?', maxLength: QUESTION_MAX_LENGTH })
  @trimmed()
  @IsString({ message: 'Type your question' })
  @IsNotEmpty({ message: 'Type your question' })
  @MaxLength(QUESTION_MAX_LENGTH, { message: `Questions must be ${QUESTION_MAX_LENGTH} characters or fewer` })
  body!: string;
}

export const MODERATIONS = ['answered', 'hidden', 'open'] as const;
export type Moderation = (typeof MODERATIONS)[number];

export class ModerateQuestionDto {
  @ApiProperty({ enum: MODERATIONS })
  @IsIn(MODERATIONS, { message: 'status must be answered, hidden or open' })
  status!: Moderation;
}

export class RecordingHeartbeatDto {
  @ApiProperty({ example: 30, description: 'Second of the recording where this stretch of watching began' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'from must be a number of seconds' })
  from!: number;

  @ApiProperty({ example: 40, description: 'Second where it ended; greater than from, at most 60 seconds later' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'to must be a number of seconds' })
  to!: number;
}

export const WHEN = ['upcoming', 'past'] as const;
export type When = (typeof WHEN)[number];

export class WebinarListQueryDto {
  @ApiPropertyOptional({ enum: WHEN, default: 'upcoming', description: 'upcoming: not yet ended (live ones included), soonest first; past: ended, latest first' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(WHEN, { message: 'when must be upcoming or past' })
  when?: When;

  @ApiPropertyOptional({ description: 'Topic slug', example: 'cyber-security' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,80}$/, { message: 'topic must be a topic slug, like cyber-security' })
  topic?: string;

  @PageNumber()
  page?: number;
}
