import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { emptyToUndefined, lf, markdownText, PageNumber, trimmed, wholeNumber } from '../../common/form-fields';
import { ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';

export const BIO_MAX_LENGTH = 600;
export const SUBJECT_MAX_LENGTH = 150;
export const MESSAGE_MAX_LENGTH = 5_000;
/** More boxes than any list has: a guard against a form stuffed by hand, not a rule people meet. */
const MAX_CHOICES = 500;

/** A field that may be sent once or repeated (checkboxes): always a list; each entry a whole number or left as given. */
const idList = () =>
  Transform(({ value }) => {
    if (value === undefined || value === null || value === '') return [];
    return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : v));
  });

/** A one-line subject: line breaks and runs of spaces become one space (it goes into an e-mail's Subject header). */
const oneLine = () => Transform(({ value }) => (typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : value));

/** The person's own peer profile (GET/POST /peers/profile). Name, job role and organisations come from the account. */
export class PeerProfileFormDto {
  /** The checkbox: sent as `yes` when ticked, absent when not. */
  @Transform(({ value }) => (value === undefined || value === '' ? 'no' : value))
  @IsIn(['yes', 'no'], { message: 'Choose whether to list your profile' })
  listed: 'yes' | 'no' = 'no';

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter your bio as text' })
  @MaxLength(BIO_MAX_LENGTH, { message: `Your bio must be ${BIO_MAX_LENGTH} characters or fewer` })
  bio?: string;

  @idList()
  @IsArray({ message: 'Choose systems from the list' })
  @ArrayMaxSize(MAX_CHOICES, { message: 'Choose systems from the list' })
  @IsInt({ each: true, message: 'Choose systems from the list' })
  systems: number[] = [];

  @idList()
  @IsArray({ message: 'Choose topics from the list' })
  @ArrayMaxSize(MAX_CHOICES, { message: 'Choose topics from the list' })
  @IsInt({ each: true, message: 'Choose topics from the list' })
  topics: number[] = [];

  @IsIn(['yes', 'no'], { message: 'Choose whether other members can contact you' })
  openToContact!: 'yes' | 'no';
}

const slugRule = /^[a-z0-9][a-z0-9-]{0,119}$/;

/** The filters of /peers and GET /api/v1/peers. */
export class PeerSearchQueryDto {
  @ApiPropertyOptional({ description: 'A system’s slug (from the moderators’ list): "who else runs X?"', example: 'oracle-health-millennium' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(slugRule, { message: 'system must be a system’s slug, like oracle-health-millennium' })
  system?: string;

  @ApiPropertyOptional({ description: 'A topic’s slug: people who can help with it', example: 'clinical-safety' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(slugRule, { message: 'topic must be a topic’s slug, like clinical-safety' })
  topic?: string;

  @ApiPropertyOptional({ enum: Object.keys(REGIONS), description: 'The region of one of their (active) organisations' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(REGIONS), { message: 'region must be one of the regions on the list' })
  region?: string;

  @ApiPropertyOptional({ enum: Object.keys(ORGANISATION_TYPES), description: 'The type of one of their (active) organisations' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(ORGANISATION_TYPES), { message: 'organisationType must be one of the types of organisation on the list' })
  organisationType?: string;

  @ApiPropertyOptional({ description: 'Words that start the person’s name or their organisation’s name (each word must match one or the other)', maxLength: 100, example: 'leeds' })
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'q must be text' })
  @MaxLength(100, { message: 'The search must be 100 characters or fewer' })
  q?: string;

  @PageNumber()
  page?: number;
}

/** The first message to someone (POST /peers/{userId}/contact). */
export class ContactFormDto {
  @oneLine()
  @IsString({ message: 'Enter a subject' })
  @IsNotEmpty({ message: 'Enter a subject' })
  @MaxLength(SUBJECT_MAX_LENGTH, { message: `The subject must be ${SUBJECT_MAX_LENGTH} characters or fewer` })
  subject!: string;

  @trimmed()
  @IsString({ message: 'Enter your message' })
  @IsNotEmpty({ message: 'Enter your message' })
  @MaxLength(MESSAGE_MAX_LENGTH, { message: `Your message must be ${MESSAGE_MAX_LENGTH.toLocaleString('en-GB')} characters or fewer` })
  body!: string;
}

/** A reply in a conversation (POST /peers/messages/{id}/reply). */
export class ReplyFormDto {
  @trimmed()
  @IsString({ message: 'Enter your reply' })
  @IsNotEmpty({ message: 'Enter your reply' })
  @MaxLength(MESSAGE_MAX_LENGTH, { message: `Your reply must be ${MESSAGE_MAX_LENGTH.toLocaleString('en-GB')} characters or fewer` })
  body!: string;
}

/** Blocking the other person of a conversation (POST /peers/blocks). */
export class BlockFormDto {
  @wholeNumber()
  @IsInt({ message: 'Block someone from a message they sent you' })
  messageId!: number;
}

/** Text as lines, for pages and e-mails that show plain text (each line escaped, never markup). */
export const linesOf = (text: string) => lf(text).split('\n');
