import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { emptyToUndefined, PageNumber, wholeNumber } from '../../common/form-fields';
import { DISCUSSION_QUERY_MAX_LENGTH } from './discussion-search.service';

/**
 * The query of /discussions/search and GET /api/v1/discussions/search. What q must be (given, not too long, with a
 * word to search for) the service checks, with the same messages on the page and in the API.
 */
export class DiscussionSearchQueryDto {
  @ApiPropertyOptional({
    description: `Words to find (all of them, each also as the start of a longer word: "hazard" finds "hazards"), in threads' titles and in their visible posts. Words of fewer than 3 letters and common words ("the", "and") are not searched; a q with no other word is refused. Required; at most ${DISCUSSION_QUERY_MAX_LENGTH} characters.`,
    maxLength: DISCUSSION_QUERY_MAX_LENGTH,
    example: 'hazard log',
  })
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'q must be text' })
  q?: string;

  @ApiPropertyOptional({ description: 'Only the threads of this space (a community or the discussion of a course, lesson, webinar or exchange item)', minimum: 1, example: 12 })
  @wholeNumber()
  @IsOptional()
  @IsInt({ message: 'space must be a space id, a whole number' })
  @Min(1, { message: 'space must be a space id, a whole number' })
  space?: number;

  @PageNumber()
  page?: number;
}
