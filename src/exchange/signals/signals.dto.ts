import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { markdownText, PageNumber, wholeNumber } from '../../common/form-fields';

/** How long an adoption's note may be. */
export const ADOPTION_NOTE_MAX_LENGTH = 500;
export const NOTE_TOO_LONG = `Your note must be ${ADOPTION_NOTE_MAX_LENGTH} characters or fewer`;
export const CHOOSE_ORGANISATION = 'Choose which of your organisations adopted this';

/** The adoption form: which of the person's organisations adopted the item, and how (optional). */
export class AdoptionFormDto {
  @wholeNumber()
  @IsOptional()
  @IsInt({ message: CHOOSE_ORGANISATION })
  organisationId?: number;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter your note as text' })
  @MaxLength(ADOPTION_NOTE_MAX_LENGTH, { message: NOTE_TOO_LONG })
  note?: string;
}

/** The removal forms: which organisation's adoption to withdraw; where the person came from (My saved, say). */
export class SignalRemovalFormDto {
  @wholeNumber()
  @IsOptional()
  @IsInt({ message: 'Choose the organisation whose adoption to withdraw' })
  organisationId?: number;

  @IsOptional()
  @IsString()
  from?: string;

  @PageNumber()
  page?: number;
}

/** POST /api/v1/exchange/{slug}/adoptions. */
export class AdoptionApiDto {
  @ApiPropertyOptional({
    example: 12,
    description: 'The organisation that adopted it: one the caller is an active member of. Required when the caller is an active member of several; otherwise their one organisation',
  })
  @IsOptional()
  @IsInt({ message: 'organisationId must be a whole number' })
  @Min(1, { message: 'organisationId must be a whole number' })
  organisationId?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: ADOPTION_NOTE_MAX_LENGTH,
    example: 'Adapted for our community nursing teams',
    description: 'How the organisation used it (Markdown, shown sanitised). Recording the adoption again replaces the note; empty or null removes it',
  })
  @IsOptional()
  @IsString({ message: 'note must be text' })
  @MaxLength(ADOPTION_NOTE_MAX_LENGTH, { message: `note must be ${ADOPTION_NOTE_MAX_LENGTH} characters or fewer` })
  note?: string | null;
}

export class SavedQueryDto {
  @PageNumber()
  page?: number;

  @IsOptional()
  @IsString()
  notice?: string;
}

export class PageQueryDto {
  @PageNumber()
  page?: number;
}
