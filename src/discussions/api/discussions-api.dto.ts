import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { PageNumber } from '../../common/form-fields';
import { THREAD_KINDS } from '../entities';
import { BODY_MAX_LENGTH, TITLE_MAX_LENGTH } from '../threads/posting-rules';

/**
 * The bodies of the discussions API. Each field need only arrive; ThreadsService checks what it must be (a kind, a
 * title and a body of the right length, a quoted post of the thread), with the same messages as the pages.
 */
export class StartThreadApiDto {
  @ApiProperty({ type: String, enum: THREAD_KINDS, example: 'question', description: '`question`: its asker (or a moderator) can accept one reply as the answer; `discussion`: anything else' })
  @IsOptional()
  kind?: unknown;

  @ApiProperty({ type: String, example: 'Hazard workshops for a new EPR module', maxLength: TITLE_MAX_LENGTH }) @IsOptional() title?: unknown;

  @ApiProperty({ type: String, example: 'Has anyone run a hazard workshop for an **ePMA** go-live? @sam-patel-12 did, I think.', maxLength: BODY_MAX_LENGTH, description: 'Markdown (sanitised when shown); `@{handle}` mentions a person who can read the discussion' })
  @IsOptional()
  body?: unknown;
}

export class ReplyApiDto {
  @ApiProperty({ type: String, example: 'We did: two sessions, with the pharmacists in the second.', maxLength: BODY_MAX_LENGTH, description: 'Markdown (sanitised when shown); `@{handle}` mentions a person who can read the thread' })
  @IsOptional()
  body?: unknown;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 41, description: 'A visible post of the same thread that this reply quotes' })
  @IsOptional()
  quotedPostId?: unknown;
}

export class DiscussionPageQueryDto {
  @PageNumber()
  page?: number;
}
