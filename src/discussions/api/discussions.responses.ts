import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { POST_STATUSES, SPACE_ACCESS, SPACE_KINDS, THREAD_KINDS } from '../entities';
import { DISCUSSION_SEARCH_PAGE_SIZE, MAX_MATCHED_POSTS } from '../search/discussion-search.service';
import { REPLIES_PER_PAGE, THREADS_PER_PAGE } from '../threads/posting-rules';

/** The shapes the discussions API answers with, for the OpenAPI document (discussions-api.views.ts builds them). */

export class DiscussionPersonResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'Sam Patel' }) name!: string;
  @ApiProperty({ example: 'Learner', description: 'Their role in the academy, in words' }) roleLabel!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Leeds Teaching Hospitals NHS Trust', description: 'The organisation they belong to, if any' }) organisationName!: string | null;
  @ApiProperty({ example: 'sam-patel-12', description: 'What mentions them in a post: `@sam-patel-12`' }) handle!: string;
}

const THREAD_STATUS_DOC =
  '`visible`; `held` (waiting for a moderator: only its author and moderators see it); `hidden` (by a moderator); `deleted` (by its author: moderators only)';

export class DiscussionThreadResponse {
  @ApiProperty({ example: 31 }) id!: number;
  @ApiProperty({ example: 7 }) spaceId!: number;
  @ApiProperty({ enum: THREAD_KINDS }) kind!: string;
  @ApiProperty({ example: 'Hazard workshops for a new EPR module' }) title!: string;
  @ApiProperty({ enum: POST_STATUSES, description: THREAD_STATUS_DOC }) status!: string;
  @ApiProperty({ description: 'Pinned by a moderator: listed first' }) pinned!: boolean;
  @ApiProperty({ description: 'Locked by a moderator: nobody but moderators can reply or change its posts' }) locked!: boolean;
  @ApiProperty({ example: 4, description: 'Visible replies' }) replyCount!: number;
  @ApiProperty({ type: String, format: 'date-time', description: 'When its newest visible post was written' }) lastActivityAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: DiscussionPersonResponse, nullable: true, description: 'Who started it; null once their account is gone' }) author!: DiscussionPersonResponse | null;
  @ApiProperty({ type: Number, nullable: true, example: 44, description: 'A question’s accepted answer (one of its replies)' }) acceptedPostId!: number | null;
  @ApiProperty({ example: '/discussions/threads/31', description: 'Its page (a path on this site)' }) url!: string;
}

export class DiscussionThreadListResponse {
  @ApiProperty({ type: [DiscussionThreadResponse], description: `Pinned threads first, then the newest activity; ${THREADS_PER_PAGE} a page. Held and hidden threads are listed to their author and moderators only.` })
  items!: DiscussionThreadResponse[];
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 3 }) pages!: number;
  @ApiProperty({ example: 52, description: 'Threads the caller sees, over all pages' }) total!: number;
}

export class DiscussionPostResponse {
  @ApiProperty({ example: 44 }) id!: number;
  @ApiProperty({ example: 31 }) threadId!: number;
  @ApiProperty({ description: 'Whether it is the thread’s opening post (the question or the start of the discussion)' }) isOpening!: boolean;
  @ApiProperty({ enum: POST_STATUSES, description: THREAD_STATUS_DOC }) status!: string;
  @ApiProperty({ type: String, nullable: true, example: '<p>We did: two sessions.</p>', description: 'The post as sanitised HTML; null where the caller sees only `placeholder` (deleted, or hidden from them)' })
  bodyHtml!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The Markdown as written: only in the caller’s own posts (to edit them); null elsewhere' }) body!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'This post was deleted by its author', description: 'What to show in its place or beside it (deleted, hidden, waiting for a moderator)' })
  placeholder!: string | null;
  @ApiProperty({ example: 3 }) helpfulCount!: number;
  @ApiProperty({ description: 'Whether the caller marked it helpful' }) votedByMe!: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its author last changed it' }) editedAt!: Date | null;
  @ApiProperty({ type: Number, nullable: true, example: 41, description: 'The post of the same thread it quotes' }) quotedPostId!: number | null;
  @ApiProperty({ type: DiscussionPersonResponse, nullable: true, description: 'Who wrote it; null once their account is gone' }) author!: DiscussionPersonResponse | null;
  @ApiProperty({ description: 'Whether it is the question’s accepted answer' }) accepted!: boolean;
}

export class DiscussionCanReplyResponse {
  @ApiProperty() allowed!: boolean;
  @ApiProperty({ type: String, enum: ['locked', 'suspended', 'conduct', 'closed'], nullable: true, description: '`conduct`: accept the code of conduct first (POST /api/v1/discussions/conduct)' })
  reason!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why not, in words to show a person' }) message!: string | null;
}

export class DiscussionThreadPageResponse {
  @ApiProperty({ type: DiscussionThreadResponse }) thread!: DiscussionThreadResponse;
  @ApiProperty({ type: DiscussionPostResponse, nullable: true, description: 'The opening post (on every page)' }) opening!: DiscussionPostResponse | null;
  @ApiProperty({ type: DiscussionPostResponse, nullable: true, description: 'A question’s accepted answer, shown first (on every page, and not among `items`)' }) accepted!: DiscussionPostResponse | null;
  @ApiProperty({ type: [DiscussionPostResponse], description: `The replies, oldest first, ${REPLIES_PER_PAGE} a page (placeholders for deleted and hidden ones)` }) items!: DiscussionPostResponse[];
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 1 }) pages!: number;
  @ApiProperty({ example: 4, description: 'Replies in the paged list, over all pages' }) total!: number;
  @ApiProperty({ type: [DiscussionPersonResponse], description: 'Everyone with a visible post in it, by name' }) participants!: DiscussionPersonResponse[];
  @ApiProperty({ description: 'Whether the caller follows it' }) following!: boolean;
  @ApiProperty({ type: DiscussionCanReplyResponse }) canReply!: DiscussionCanReplyResponse;
}

export class DiscussionStartedResponse {
  @ApiProperty({ type: DiscussionThreadResponse }) thread!: DiscussionThreadResponse;
  @ApiProperty({ type: DiscussionPostResponse, description: 'Its opening post' }) post!: DiscussionPostResponse;
  @ApiProperty({ description: 'Whether it waits for a moderator before others see it (a new or unverified account)' }) held!: boolean;
}

export class DiscussionReplyResponse {
  @ApiProperty({ type: DiscussionPostResponse }) post!: DiscussionPostResponse;
  @ApiProperty({ description: 'Whether it waits for a moderator before others see it (a new or unverified account)' }) held!: boolean;
  @ApiProperty({ example: '/discussions/threads/31?page=2#post-45', description: 'Where it is on the thread’s pages (a path on this site)' }) url!: string;
}

export class DiscussionHelpfulResponse {
  @ApiProperty({ example: 44 }) postId!: number;
  @ApiProperty({ description: 'Whether the caller now marks it helpful' }) helpful!: boolean;
  @ApiProperty({ example: 4, description: 'People who mark it helpful, after the change' }) helpfulCount!: number;
}

export class DiscussionThreadFollowResponse {
  @ApiProperty({ example: 31 }) threadId!: number;
  @ApiProperty({ description: 'Whether the caller now follows it (and is told of its replies)' }) following!: boolean;
}

export class DiscussionSpaceFollowResponse {
  @ApiProperty({ example: 7 }) spaceId!: number;
  @ApiProperty({ description: 'Whether the caller now follows it (and is told of its new threads)' }) following!: boolean;
}

export class DiscussionConductResponse {
  @ApiProperty({ description: 'Always true: the caller has accepted the current code of conduct' }) accepted!: boolean;
  @ApiProperty({ example: 1, description: 'The version accepted (its text is at /discussions/conduct)' }) version!: number;
}

export class DiscussionSubjectResponse {
  @ApiProperty({ enum: SPACE_KINDS.filter((k) => k !== 'community') }) kind!: string;
  @ApiProperty({ example: 5, description: 'The course’s, lesson’s, webinar’s or exchange item’s id' }) id!: number;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
  @ApiProperty({ example: '/courses/clinical-risk-in-practice', description: 'Its own page (a path on this site)' }) url!: string;
}

export class DiscussionSpaceResponse {
  @ApiProperty({ example: 7, description: 'The space id: its threads are GET /api/v1/discussions/spaces/{id}/threads' }) id!: number;
  @ApiProperty({ enum: SPACE_KINDS }) kind!: string;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
  @ApiProperty({ enum: SPACE_ACCESS, description: 'A subject’s discussion is always `open`: its subject decides who reads it' }) access!: string;
  @ApiProperty({ example: 12, description: 'Visible threads' }) threadCount!: number;
  @ApiProperty({ type: DiscussionSubjectResponse, nullable: true, description: 'What it is the discussion of; null for a community' }) subject!: DiscussionSubjectResponse | null;
  @ApiProperty({ description: 'Whether the caller follows it' }) following!: boolean;
  @ApiProperty({ description: 'Whether the caller moderates it (pins, locks, hides posts)' }) canModerate!: boolean;
  @ApiProperty({ example: '/discussions/spaces/7', description: 'Its page (a path on this site)' }) url!: string;
}

export class DiscussionSearchSpaceResponse {
  @ApiProperty({ example: 7 }) id!: number;
  @ApiProperty({ enum: SPACE_KINDS }) kind!: string;
  @ApiProperty({ example: 'Clinical safety officers' }) title!: string;
}

export class DiscussionSearchHitResponse {
  @ApiProperty({ example: 31 }) threadId!: number;
  @ApiProperty({ example: 'Hazard workshops for a new EPR module' }) title!: string;
  @ApiProperty({ enum: THREAD_KINDS }) kind!: string;
  @ApiProperty({ type: DiscussionSearchSpaceResponse, description: 'The space it is in' }) space!: DiscussionSearchSpaceResponse;
  @ApiProperty({ example: 44, description: 'The newest of its posts that match' }) postId!: number;
  @ApiProperty({ example: '…we ran the hazard workshop with pharmacists in the second session…', description: 'Plain text: a short passage of that post around the words' }) excerpt!: string;
  @ApiProperty({ example: 4, description: 'Visible replies' }) replyCount!: number;
  @ApiProperty({ type: String, format: 'date-time' }) lastActivityAt!: Date;
  @ApiProperty({ example: '/discussions/threads/31#post-44', description: 'The thread’s page at that post (a path on this site)' }) url!: string;
}

export class DiscussionSearchResponse {
  @ApiProperty({ type: [DiscussionSearchHitResponse], description: `Threads the caller may read with a visible post that matches, newest activity first, ${DISCUSSION_SEARCH_PAGE_SIZE} a page` })
  items!: DiscussionSearchHitResponse[];
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 2 }) pages!: number;
  @ApiProperty({ example: 23, description: 'Threads found, over all pages' }) total!: number;
  @ApiProperty({ description: `true when more than ${MAX_MATCHED_POSTS.toLocaleString('en-GB')} posts matched: only the most recently active threads' were looked at (add words to narrow it)` }) capped!: boolean;
}
