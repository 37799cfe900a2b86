import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { CommunitiesPageQueryDto } from './communities.dto';
import { DiscussionCommunityListResponse } from './communities.responses';
import { CommunitiesService, COMMUNITIES_PER_PAGE } from './communities.service';
import { communityHref } from './community-views';

/** Communities for API clients: every one, with the caller's place in it. Joining and managing members are pages. */
@ApiTags('discussions')
@ApiBearerAuth()
@Controller('api/v1/discussions/communities')
export class CommunitiesApiController {
  constructor(private readonly communities: CommunitiesService) {}

  @Get()
  @ApiOperation({
    operationId: 'listDiscussionCommunities',
    summary: `Every community (open and members-only alike), by title, ${COMMUNITIES_PER_PAGE} a page, each with the caller’s membership`,
    description: 'A members-only community is listed to everyone; its threads are readable only by its members, its moderators and the site’s moderators and administrators.',
  })
  @ApiOkResponse({ type: DiscussionCommunityListResponse })
  async list(@SignedInUser() user: CurrentUser, @Query() query: CommunitiesPageQueryDto): Promise<DiscussionCommunityListResponse> {
    const result = await this.communities.list(user, query.page ?? 1);
    return {
      ...result,
      items: result.items.map(({ space, membership }) => ({
        id: space.id,
        slug: space.slug!,
        title: space.title,
        description: space.description,
        access: space.access,
        threadCount: space.threadCount,
        membership,
        url: communityHref(space.slug!),
      })),
    };
  }
}
