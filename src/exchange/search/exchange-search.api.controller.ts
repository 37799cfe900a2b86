import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../accounts/identity';
import { ValidationFailed } from '../../common/errors';
import { ApiProblems } from '../../common/openapi';
import { ExchangeSearchQueryDto } from './exchange-search.dto';
import { ExchangeListResponse } from './exchange-search.responses';
import { ExchangeSearchService } from './exchange-search.service';
import { EXCHANGE_PAGE_SIZE } from './search-query';

@ApiTags('exchange')
@Controller('api/v1/exchange')
export class ExchangeSearchApiController {
  constructor(private readonly search: ExchangeSearchService) {}

  @Public()
  @Get()
  @ApiOperation({
    operationId: 'searchExchange',
    summary: `Published case studies, tools and hacks: full-text search, filters by kind, topic, care setting, system, organisation type and region, four orders, ${EXCHANGE_PAGE_SIZE} a page, with the counts of each filter's values`,
    description:
      'The same search as /exchange. Each filter takes one value (its code, or the slug of a topic or system, as the facets give them); several filters narrow the search together. A facet counts the items each of its values would find with the other filters unchanged. Drafts, items under review and withdrawn items are never found.',
  })
  @ApiOkResponse({ type: ExchangeListResponse })
  @ApiProblems({ 400: 'A filter names no such value (kind, care setting, organisation type, region, sort, or a topic or system that does not exist), a parameter is given twice, q has no word to search for, or sort=relevance without q' })
  async list(@Query() query: ExchangeSearchQueryDto): Promise<ExchangeListResponse> {
    const { search, problems } = await this.search.resolve(query);
    if (Object.keys(problems).length) throw new ValidationFailed(problems, Object.values(problems).join('. '));
    const result = await this.search.search(search);
    return {
      items: result.items.map((c) => ({ slug: c.slug, kind: c.kind, title: c.title, summary: c.summary, organisation: c.organisation, publishedAt: c.publishedAt, counts: c.counts })),
      facets: result.facets,
      page: result.page,
      hasNext: result.hasNext,
      total: result.total,
      capped: result.capped,
    };
  }
}
