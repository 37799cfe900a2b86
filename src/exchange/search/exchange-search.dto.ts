import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { emptyToUndefined, PageNumber } from '../../common/form-fields';
import { ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';
import { CARE_SETTINGS, EXCHANGE_KINDS, EXCHANGE_SORTS } from '../exchange-kinds';
import { QUERY_MAX_LENGTH } from './search-query';

const codes = (labels: Record<string, string>) => Object.keys(labels);
const oneOf = (name: string, labels: Record<string, string>) => IsIn(codes(labels), { message: `${name} must be one of ${codes(labels).join(', ')}` });

/**
 * GET /api/v1/exchange: the same search and filters as /exchange, each given at most once. The service checks what
 * a pattern cannot (that a topic or system exists, that relevance has words to be relevant to) and answers 400 too.
 */
export class ExchangeSearchQueryDto {
  @ApiPropertyOptional({
    description: `Words to find (all of them, each also as the start of a longer word: "adopt" finds "adopted"), in the title, summary, sections, systems, suppliers, topics and organisations. Words of fewer than 3 letters and common words ("the", "and") are not searched; a q with no other word is refused. At most ${QUERY_MAX_LENGTH} characters.`,
    maxLength: QUERY_MAX_LENGTH,
    example: 'discharge letters',
  })
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'q must be text' })
  @MaxLength(QUERY_MAX_LENGTH, { message: `q must be ${QUERY_MAX_LENGTH} characters or fewer` })
  q?: string;

  @ApiPropertyOptional({ enum: codes(EXCHANGE_KINDS) })
  @emptyToUndefined()
  @IsOptional()
  @oneOf('kind', EXCHANGE_KINDS)
  kind?: string;

  @ApiPropertyOptional({ description: 'A topic slug (as in the facets)', example: 'clinical-safety' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,120}$/, { message: 'topic must be a topic slug, like clinical-safety' })
  topic?: string;

  @ApiPropertyOptional({ enum: codes(CARE_SETTINGS) })
  @emptyToUndefined()
  @IsOptional()
  @oneOf('careSetting', CARE_SETTINGS)
  careSetting?: string;

  @ApiPropertyOptional({ description: 'The slug of a system on the moderators’ list (as in the facets): items naming it', example: 'oracle-health-millennium' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,120}$/, { message: 'system must be a system slug, like oracle-health-millennium' })
  system?: string;

  @ApiPropertyOptional({ enum: codes(ORGANISATION_TYPES), description: 'Items shared by (or with a partner that is) an organisation of this type' })
  @emptyToUndefined()
  @IsOptional()
  @oneOf('organisationType', ORGANISATION_TYPES)
  organisationType?: string;

  @ApiPropertyOptional({ enum: codes(REGIONS), description: 'Items shared by (or with a partner in) an organisation in this region' })
  @emptyToUndefined()
  @IsOptional()
  @oneOf('region', REGIONS)
  region?: string;

  @ApiPropertyOptional({ enum: codes(EXCHANGE_SORTS), description: 'relevance (the default with q; only with q), newest (the default without q), most_adopted, most_helpful' })
  @emptyToUndefined()
  @IsOptional()
  @oneOf('sort', EXCHANGE_SORTS)
  sort?: string;

  @PageNumber()
  page?: number;
}
