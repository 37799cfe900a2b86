import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { RateLimiter } from '../accounts/rate-limiter';
import { ApiProblems } from '../common/openapi';
import { OrganisationDirectory, SEARCH_LIMIT, SEARCH_MIN_LENGTH } from './organisation-directory.service';
import { ORGANISATION_TYPES, REGIONS } from './organisation-kinds';

/** Searches per IP address and minute: typing a name, with the picker's pause between keystrokes, asks far fewer. */
export const ORGANISATION_SEARCHES_PER_MINUTE = 120;

export class OrganisationSearchQuery {
  @ApiPropertyOptional({ description: `The start of the name, or of words in it, or an ODS code; fewer than ${SEARCH_MIN_LENGTH} characters find nothing`, maxLength: 100, example: 'leeds teach' })
  @IsOptional()
  @IsString({ message: 'q must be text' })
  @MaxLength(100, { message: 'q must be 100 characters or fewer' })
  q?: string;
}

export class OrganisationSummaryResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) name!: string;
  @ApiProperty({ enum: Object.keys(ORGANISATION_TYPES), example: 'nhs_trust' }) type!: string;
  @ApiProperty({ example: 'NHS trust' }) typeLabel!: string;
  @ApiProperty({ enum: Object.keys(REGIONS), nullable: true, type: String, example: 'north_east_yorkshire' }) region!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'North East and Yorkshire' }) regionLabel!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'RR8', description: 'Organisation Data Service code' }) odsCode!: string | null;
}

@ApiTags('organisations')
@Controller('api/v1/organisations')
export class OrganisationsApiController {
  constructor(
    private readonly directory: OrganisationDirectory,
    private readonly limiter: RateLimiter,
  ) {}

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'searchOrganisations',
    summary: `Active organisations people can join, for sign-up's search-as-you-type (public, throttled): the one with that ODS code, then names starting with the text, then names with words starting with its words; at most ${SEARCH_LIMIT}`,
  })
  @ApiOkResponse({ type: [OrganisationSummaryResponse] })
  @ApiProblems({ 429: 'Too many searches from this address in the last minute; see Retry-After' })
  async search(@Query() query: OrganisationSearchQuery, @Req() request: FastifyRequest): Promise<OrganisationSummaryResponse[]> {
    await this.limiter.hit(`organisation-search:ip:${request.ip}`, ORGANISATION_SEARCHES_PER_MINUTE, 60);
    return this.directory.searchCached(query.q ?? '');
  }
}
