import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { CatalogueQueryDto } from './catalogue.dto';
import { CatalogueService } from './catalogue.service';

@ApiTags('courses')
@Controller('api/v1/courses')
export class CatalogueApiController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Published courses: search title and summary, filter by topic, level and length, sort, page' })
  @ApiOkResponse({ description: '{ items, total, page, pages, perPage }' })
  list(@Query() query: CatalogueQueryDto) {
    return this.catalogue.search(query);
  }

  @Public()
  @Get(':slug')
  @ApiOperation({ summary: 'One course with its modules and lessons (drafts: their author and admins only)' })
  async course(@Param('slug') slug: string, @Req() request: FastifyRequest) {
    const { authorId: _author, ...course } = await this.catalogue.courseBySlug(slug, request.identity?.user ?? null);
    return course;
  }
}
