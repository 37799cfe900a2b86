import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { renderMarkdown } from '../common/markdown';
import { ApiOptionalBearer, ApiProblems } from '../common/openapi';
import { CatalogueQueryDto } from './catalogue.dto';
import { CataloguePageResponse, CourseDetailResponse } from './catalogue.responses';
import { CatalogueService } from './catalogue.service';

@ApiTags('courses')
@Controller('api/v1/courses')
export class CatalogueApiController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'listCourses', summary: 'Published courses: search title and summary, filter by topic, level and length, sort, page' })
  @ApiOkResponse({ type: CataloguePageResponse })
  list(@Query() query: CatalogueQueryDto): Promise<CataloguePageResponse> {
    return this.catalogue.search(query);
  }

  @Public()
  @Get(':slug')
  @ApiOptionalBearer()
  @ApiOperation({ operationId: 'getCourse', summary: 'One course with its modules and lessons (drafts: their author and admins only); video lessons carry durationSeconds' })
  @ApiOkResponse({ type: CourseDetailResponse })
  @ApiProblems({ 404: 'No course has that slug, or it is a draft the caller may not see' })
  async course(@Param('slug') slug: string, @Req() request: FastifyRequest): Promise<CourseDetailResponse> {
    const { authorId: _author, ...course } = await this.catalogue.courseBySlug(slug, request.identity?.user ?? null);
    return { ...course, descriptionHtml: renderMarkdown(course.description), whoForHtml: renderMarkdown(course.whoFor) };
  }
}
