import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { ApiProblems } from '../../common/openapi';
import { DiscussionSearchQueryDto } from '../search/discussion-search.dto';
import { DISCUSSION_QUERY_MAX_LENGTH, DiscussionSearchService } from '../search/discussion-search.service';
import { DiscussionSearchResponse } from './discussions.responses';

@ApiTags('discussions')
@ApiBearerAuth()
@Controller('api/v1/discussions/search')
export class DiscussionSearchApiController {
  constructor(private readonly search: DiscussionSearchService) {}

  @Get()
  @ApiOperation({
    operationId: 'searchDiscussions',
    summary: 'Threads whose title or visible posts match the words, in every discussion the caller may read (or one space), newest activity first',
    description: 'The same search as /discussions/search, with the exchange’s engine. Only visible posts of visible threads are found, and only in discussions the caller may read: nothing is said of others.',
  })
  @ApiOkResponse({ type: DiscussionSearchResponse })
  @ApiProblems({
    400: `q is missing, longer than ${DISCUSSION_QUERY_MAX_LENGTH} characters or has no word to search for (words of 3 letters or more, not common words like “the”), or space or page is not a whole number: \`validation_failed\` with \`errors.q\``,
    404: 'space names no discussion the caller may read',
  })
  async searchDiscussions(@SignedInUser() user: CurrentUser, @Query() query: DiscussionSearchQueryDto): Promise<DiscussionSearchResponse> {
    const result = await this.search.search(user, { q: query.q, spaceId: query.space, page: query.page });
    return {
      items: result.items.map((hit) => ({ threadId: hit.threadId, title: hit.title, kind: hit.kind, space: hit.space, postId: hit.postId, excerpt: hit.excerpt, replyCount: hit.replyCount, lastActivityAt: hit.lastActivityAt, url: hit.href })),
      page: result.page,
      pages: result.pages,
      total: result.total,
      capped: result.capped,
    };
  }
}
