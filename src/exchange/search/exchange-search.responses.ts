import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';
import { EXCHANGE_KINDS } from '../exchange-kinds';
import { EXCHANGE_PAGE_SIZE, FACET_LIMIT, MAX_SEARCH_HITS } from './search-query';

/** The shapes GET /api/v1/exchange answers with. */

export class ExchangeListOrganisationResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) name!: string;
  @ApiProperty({ enum: Object.keys(ORGANISATION_TYPES), example: 'nhs_trust' }) type!: string;
  @ApiProperty({ enum: Object.keys(REGIONS), type: String, nullable: true, example: 'north_east_yorkshire' }) region!: string | null;
}

export class ExchangeListCountsResponse {
  @ApiProperty({ example: 14 }) helpful!: number;
  @ApiProperty({ example: 3, description: 'Organisations that adopted it' }) adoptions!: number;
  @ApiProperty({ example: 9 }) saves!: number;
  @ApiProperty({ example: 120, description: 'Downloads of its files' }) downloads!: number;
}

export class ExchangeListItemResponse {
  @ApiProperty({ example: 'discharge-letters-within-a-day-3f9c1a', description: 'Its page is /exchange/{slug}; GET /api/v1/exchange/{slug} has the whole item' }) slug!: string;
  @ApiProperty({ enum: Object.keys(EXCHANGE_KINDS) }) kind!: string;
  @ApiProperty({ example: 'Discharge letters within a day' }) title!: string;
  @ApiProperty({ description: 'Plain text' }) summary!: string;
  @ApiProperty({ type: ExchangeListOrganisationResponse, description: 'The organisation that shares it' }) organisation!: ExchangeListOrganisationResponse;
  @ApiProperty({ type: String, format: 'date-time', description: 'When its public revision was published' }) publishedAt!: Date;
  @ApiProperty({ type: ExchangeListCountsResponse }) counts!: ExchangeListCountsResponse;
}

export class ExchangeFacetValueResponse {
  @ApiProperty({ example: 'case_study', description: 'The value to give the filter: a code, or a topic’s or system’s slug' }) value!: string;
  @ApiProperty({ example: 'Case study' }) label!: string;
  @ApiProperty({ example: 42, description: 'Items it would find with the other filters as they are (this facet’s own filter left out)' }) count!: number;
  @ApiProperty({ description: 'Whether it is the filter given' }) selected!: boolean;
}

const facetDoc = (what: string): ApiPropertyOptions => ({ type: [ExchangeFacetValueResponse], description: `${what}, the most found first (at most ${FACET_LIMIT}; the selected one always)` });

export class ExchangeFacetsResponse {
  @ApiProperty(facetDoc('Kinds')) kind!: ExchangeFacetValueResponse[];
  @ApiProperty(facetDoc('Topics')) topic!: ExchangeFacetValueResponse[];
  @ApiProperty(facetDoc('Care settings')) careSetting!: ExchangeFacetValueResponse[];
  @ApiProperty(facetDoc('Systems and suppliers')) system!: ExchangeFacetValueResponse[];
  @ApiProperty(facetDoc('Types of the organisations that share them (or are partners)')) organisationType!: ExchangeFacetValueResponse[];
  @ApiProperty(facetDoc('Regions of those organisations')) region!: ExchangeFacetValueResponse[];
}

export class ExchangeListResponse {
  @ApiProperty({ type: [ExchangeListItemResponse], description: `At most ${EXCHANGE_PAGE_SIZE}, in the order asked for` }) items!: ExchangeListItemResponse[];
  @ApiProperty({ type: ExchangeFacetsResponse, description: 'Counts for each filter, for the search and the other filters' }) facets!: ExchangeFacetsResponse;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ description: 'Whether page + 1 has items' }) hasNext!: boolean;
  @ApiProperty({ example: 57, description: `Items matching, over all pages (with q: among its best ${MAX_SEARCH_HITS.toLocaleString('en-GB')} matches, see capped). Matches and counts are kept for a short while: they may be up to 2 minutes old.` }) total!: number;
  @ApiProperty({ description: `true when q matched more than ${MAX_SEARCH_HITS.toLocaleString('en-GB')} items: only the best ${MAX_SEARCH_HITS.toLocaleString('en-GB')} are filtered, counted and paged (add words to narrow it)` }) capped!: boolean;
}
