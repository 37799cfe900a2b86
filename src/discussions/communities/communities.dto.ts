import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { markdownText, PageNumber, trimmed } from '../../common/form-fields';
import { SPACE_ACCESS } from '../entities';

export const COMMUNITY_TITLE_MIN = 3;
export const COMMUNITY_TITLE_MAX = 120;
export const COMMUNITY_DESCRIPTION_MAX = 5000;

export const TITLE_MISSING = 'Enter the community’s name, like Clinical safety officers';
export const TITLE_LENGTH = `The name must be between ${COMMUNITY_TITLE_MIN} and ${COMMUNITY_TITLE_MAX} characters`;
export const DESCRIPTION_TOO_LONG = `The description must be ${COMMUNITY_DESCRIPTION_MAX.toLocaleString('en-GB')} characters or fewer`;
export const CHOOSE_ACCESS = 'Choose who may read the community';

/** The administrators' form for a new community or a change to one. */
export class CommunityFormDto {
  @trimmed()
  @MaxLength(COMMUNITY_TITLE_MAX, { message: TITLE_LENGTH })
  @MinLength(COMMUNITY_TITLE_MIN, { message: TITLE_LENGTH })
  @IsNotEmpty({ message: TITLE_MISSING })
  @IsString({ message: TITLE_MISSING })
  title!: string;

  @markdownText()
  @IsOptional()
  @MaxLength(COMMUNITY_DESCRIPTION_MAX, { message: DESCRIPTION_TOO_LONG })
  @IsString({ message: 'Enter the description as text' })
  description?: string;

  @IsIn(SPACE_ACCESS, { message: CHOOSE_ACCESS })
  access!: (typeof SPACE_ACCESS)[number];
}

/** The list of communities and the members page: a page, and the notice after an action (read on its own). */
export class CommunitiesQueryDto {
  @PageNumber()
  page?: number;

  @IsOptional()
  @IsString()
  notice?: string;

  /** The community the notice is about (its slug). */
  @IsOptional()
  @IsString()
  community?: string;
}

/** GET /api/v1/discussions/communities: the page. */
export class CommunitiesPageQueryDto {
  @PageNumber()
  page?: number;
}
