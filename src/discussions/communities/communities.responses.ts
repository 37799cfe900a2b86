import { ApiProperty } from '@nestjs/swagger';
import { SPACE_ACCESS } from '../entities';

/** The shapes GET /api/v1/discussions/communities answers with, for the OpenAPI document. */

export class DiscussionCommunityResponse {
  @ApiProperty({ example: 7, description: 'The community’s space id: its threads are under /api/v1/discussions/spaces/{id}/threads' }) id!: number;
  @ApiProperty({ example: 'clinical-safety-officers', description: 'Its address: the page is /communities/{slug}' }) slug!: string;
  @ApiProperty({ example: 'Clinical safety officers' }) title!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Where **DCB0129 and DCB0160** clinical safety officers share what works.', description: 'Markdown, as its administrators wrote it (show it sanitised); null when it has none' })
  description!: string | null;
  @ApiProperty({ enum: SPACE_ACCESS, example: 'members', description: '`open`: any signed-in member reads it and joins it at once; `members`: people ask to join and its moderators approve them, and only its members read it' })
  access!: (typeof SPACE_ACCESS)[number];
  @ApiProperty({ example: 18, description: 'Threads visible in it' }) threadCount!: number;
  @ApiProperty({
    type: String,
    enum: ['requested', 'member', 'moderator'],
    nullable: true,
    example: 'member',
    description: 'The caller’s place in it: null (not a member), `requested` (waiting for its moderators), `member`, or `moderator` (one of the community’s own moderators)',
  })
  membership!: 'requested' | 'member' | 'moderator' | null;
  @ApiProperty({ example: '/communities/clinical-safety-officers', description: 'Its page (a path on this site)' }) url!: string;
}

export class DiscussionCommunityListResponse {
  @ApiProperty({ type: [DiscussionCommunityResponse] }) items!: DiscussionCommunityResponse[];
  @ApiProperty({ example: 23, description: 'Communities, over all pages' }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 2 }) pages!: number;
}
