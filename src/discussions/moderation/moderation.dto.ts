import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { PageNumber, trimmed, wholeNumber } from '../../common/form-fields';
import { REPORT_REASONS, type ReportReason } from '../entities';

/** What each reason means, in the words the report form and the queue use. */
export const REPORT_REASON_LABELS: Record<ReportReason, string> = {
  spam: 'Spam or advertising',
  abuse: 'Abusive, harassing or discriminatory',
  'off-topic': 'Off-topic for this discussion',
  'personal-data': 'Shares personal or patient-identifiable data',
  'clinical-risk': 'Unsafe clinical or technical advice',
  other: 'Something else',
};

export const REPORT_DETAILS_MAX = 1000;
/** The post's statusReason column holds what a moderator says when hiding it. */
export const HIDE_REASON_MAX = 300;
export const SUSPENSION_REASON_MAX = 500;
export const SUSPENSION_DAYS_MAX = 365;

export const CHOOSE_REASON = 'Choose why you are reporting this post';
export const DETAILS_NEEDED = 'Say what is wrong with this post';
export const DETAILS_TOO_LONG = `Your details must be ${REPORT_DETAILS_MAX.toLocaleString('en-GB')} characters or fewer`;
export const HIDE_REASON_NEEDED = 'Say why it is being hidden: its author is told';
export const HIDE_REASON_TOO_LONG = `The reason must be ${HIDE_REASON_MAX} characters or fewer`;
export const DAYS_MESSAGE = `Enter the number of days as a whole number from 1 to ${SUSPENSION_DAYS_MAX}`;
export const SUSPENSION_REASON_NEEDED = 'Say why they are being suspended: they are told';
export const SUSPENSION_REASON_TOO_LONG = `The reason must be ${SUSPENSION_REASON_MAX} characters or fewer`;

/** The report form: a reason from the list, and details (needed for "something else"). */
export class ReportFormDto {
  @IsIn(REPORT_REASONS as unknown as string[], { message: CHOOSE_REASON })
  reason!: ReportReason;

  @trimmed()
  @ValidateIf((o: ReportFormDto) => o.reason === 'other' || (typeof o.details === 'string' && o.details !== ''))
  @MaxLength(REPORT_DETAILS_MAX, { message: DETAILS_TOO_LONG })
  @IsString({ message: DETAILS_NEEDED })
  @IsNotEmpty({ message: DETAILS_NEEDED })
  details?: string;
}

/** A moderator's reason for hiding a post (its author reads it). */
export class HideFormDto {
  @trimmed()
  @MaxLength(HIDE_REASON_MAX, { message: HIDE_REASON_TOO_LONG })
  @IsString({ message: HIDE_REASON_NEEDED })
  @IsNotEmpty({ message: HIDE_REASON_NEEDED })
  reason!: string;
}

/** A suspension from posting: how many days, and why (the person is told). */
export class SuspendFormDto {
  @wholeNumber()
  @IsInt({ message: DAYS_MESSAGE })
  @Min(1, { message: DAYS_MESSAGE })
  @Max(SUSPENSION_DAYS_MAX, { message: DAYS_MESSAGE })
  days!: number;

  @trimmed()
  @MaxLength(SUSPENSION_REASON_MAX, { message: SUSPENSION_REASON_TOO_LONG })
  @IsString({ message: SUSPENSION_REASON_NEEDED })
  @IsNotEmpty({ message: SUSPENSION_REASON_NEEDED })
  reason!: string;
}

/** The queue's two lists, each paged on its own. */
export class QueueQueryDto {
  @PageNumber()
  page?: number;

  @PageNumber()
  heldPage?: number;

  @IsOptional()
  @IsString()
  notice?: string;
}
