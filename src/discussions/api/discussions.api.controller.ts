import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { ApiProblems } from '../../common/openapi';
import { NO_SUCH_DISCUSSION } from '../core/discussion-access';
import { Follows } from '../core/follows';
import { DiscussionEntry, SUBJECT_KINDS } from '../entry/discussion-entry';
import { spaceHref } from '../entry/entry.pages.controller';
import type { SubjectKind } from '../core/discussion-spaces';
import { CONDUCT_VERSION, Conduct } from '../threads/conduct';
import { POSTS_PER_WINDOW, POSTING_WINDOW_MS } from '../threads/posting-rules';
import { threadHref, ThreadsService } from '../threads/threads.service';
import { DiscussionPageQueryDto, ReplyApiDto, StartThreadApiDto } from './discussions-api.dto';
import { DiscussionsApiViews } from './discussions-api.views';
import {
  DiscussionConductResponse,
  DiscussionHelpfulResponse,
  DiscussionReplyResponse,
  DiscussionSpaceFollowResponse,
  DiscussionSpaceResponse,
  DiscussionStartedResponse,
  DiscussionThreadFollowResponse,
  DiscussionThreadListResponse,
  DiscussionThreadPageResponse,
} from './discussions.responses';

const id = new ParseIntPipe({ exceptionFactory: () => new NotFound(NO_SUCH_DISCUSSION) });

const UNREADABLE = 'No discussion, thread or post has that id that the caller may see (a course’s for its learners, a webinar’s for its registrants, a members-only community’s for its members): `not_found`';
const POSTING_FORBIDDEN =
  'The caller has not accepted the code of conduct (`conduct_not_accepted`: POST /api/v1/discussions/conduct), is suspended from posting (`suspended`, with until when and why), or the thread is locked (`thread_locked`) or waits for a moderator (`thread_not_open`). Nothing is written.';
const RATE_LIMITED = `The caller posted ${POSTS_PER_WINDOW} times in the last ${POSTING_WINDOW_MS / 60_000} minutes (moderators are not limited): try again after Retry-After. Nothing is written.`;
const POST_VALIDATION = 'A field is missing or too long (`validation_failed`, with `errors` by field: kind, title, body, quotedPostId)';

/**
 * Discussions for API clients: a space's threads, a thread with its posts, starting threads and replying under the
 * same posting rules as the pages (code of conduct, suspensions, locks, rate limit, held posts of new accounts),
 * "helpful" votes, following threads and spaces, and finding the discussion of a course, lesson, webinar or exchange
 * item. A discussion the caller may not read answers 404, exactly as one that does not exist. PUT and DELETE are
 * idempotent.
 */
@ApiTags('discussions')
@ApiBearerAuth()
@Controller('api/v1/discussions')
export class DiscussionsApiController {
  constructor(
    private readonly threads: ThreadsService,
    private readonly views: DiscussionsApiViews,
    private readonly follows: Follows,
    private readonly conduct: Conduct,
    private readonly entry: DiscussionEntry,
  ) {}

  @Get('spaces/:id/threads')
  @ApiOperation({ operationId: 'listDiscussionThreads', summary: 'A space’s threads: pinned first, then the newest activity, a page at a time' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The space id', example: 7 })
  @ApiOkResponse({ type: DiscussionThreadListResponse })
  @ApiProblems({ 404: UNREADABLE })
  async listThreads(@SignedInUser() user: CurrentUser, @Param('id', id) spaceId: number, @Query() query: DiscussionPageQueryDto): Promise<DiscussionThreadListResponse> {
    const result = await this.threads.listThreads(user, spaceId, query.page ?? 1);
    return { items: await this.views.summaries(spaceId, result.items), page: result.page, pages: result.pages, total: result.total };
  }

  @Post('spaces/:id/threads')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'startDiscussionThread',
    summary: 'Start a thread (a discussion or a question) in a space; the caller follows it',
    description: 'A new or unverified account’s thread waits for a moderator (`held: true`) before others see it.',
  })
  @ApiParam({ name: 'id', type: 'integer', description: 'The space id', example: 7 })
  @ApiCreatedResponse({ type: DiscussionStartedResponse })
  @ApiProblems({ 400: POST_VALIDATION, 403: POSTING_FORBIDDEN, 404: UNREADABLE, 429: RATE_LIMITED })
  async startThread(@SignedInUser() user: CurrentUser, @Param('id', id) spaceId: number, @Body() input: StartThreadApiDto): Promise<DiscussionStartedResponse> {
    const { thread, post, held } = await this.threads.startThread(user, spaceId, { kind: input.kind, title: input.title, body: input.body });
    const me = (await this.threads.peopleViews([user.id])).get(user.id) ?? null;
    return { thread: this.views.thread(thread, me), post: this.views.ownNewPost(post, me), held };
  }

  @Get('threads/:id')
  @ApiOperation({
    operationId: 'getDiscussionThread',
    summary: 'A thread: its opening post and accepted answer, its replies a page at a time (oldest first), who takes part, and whether the caller follows it and may reply',
  })
  @ApiParam({ name: 'id', type: 'integer', description: 'The thread id', example: 31 })
  @ApiOkResponse({ type: DiscussionThreadPageResponse })
  @ApiProblems({ 404: UNREADABLE })
  async thread(@SignedInUser() user: CurrentUser, @Param('id', id) threadId: number, @Query() query: DiscussionPageQueryDto): Promise<DiscussionThreadPageResponse> {
    const data = await this.threads.threadPage(user, threadId, query.page ?? 1);
    const shown = [data.opening, data.accepted, ...data.replies].filter((p) => p !== null);
    const posts = await this.views.postViews(shown);
    const byId = new Map(posts.map((p) => [p.id, p]));
    const openingAuthor = data.opening?.author ?? (data.thread.authorId === null ? null : ((await this.threads.peopleViews([data.thread.authorId])).get(data.thread.authorId) ?? null));
    return {
      thread: this.views.thread(data.thread, openingAuthor),
      opening: data.opening ? byId.get(data.opening.id)! : null,
      accepted: data.accepted ? byId.get(data.accepted.id)! : null,
      items: data.replies.map((r) => byId.get(r.id)!),
      page: data.page,
      pages: data.pages,
      total: data.totalReplies,
      participants: data.participants.map((p) => ({ id: p.id, name: p.name, roleLabel: p.roleLabel, organisationName: p.organisationName, handle: p.handle })),
      following: data.following,
      canReply: data.canReply,
    };
  }

  @Post('threads/:id/replies')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'replyToDiscussionThread',
    summary: 'Reply to a thread, optionally quoting one of its posts; the caller follows it',
    description: 'A new or unverified account’s reply waits for a moderator (`held: true`) before others see it.',
  })
  @ApiParam({ name: 'id', type: 'integer', description: 'The thread id', example: 31 })
  @ApiCreatedResponse({ type: DiscussionReplyResponse })
  @ApiProblems({ 400: POST_VALIDATION, 403: POSTING_FORBIDDEN, 404: UNREADABLE, 429: RATE_LIMITED })
  async reply(@SignedInUser() user: CurrentUser, @Param('id', id) threadId: number, @Body() input: ReplyApiDto): Promise<DiscussionReplyResponse> {
    const { post, held } = await this.threads.reply(user, threadId, { body: input.body, quotedPostId: input.quotedPostId });
    const [people, { page }] = await Promise.all([this.threads.peopleViews([user.id]), this.threads.pageOfPost(user, post.id)]);
    return { post: this.views.ownNewPost(post, people.get(user.id) ?? null), held, url: `${threadHref(threadId, page)}#post-${post.id}` };
  }

  @Put('posts/:id/helpful')
  @HttpCode(200)
  @ApiOperation({ operationId: 'markDiscussionPostHelpful', summary: 'Mark a visible post helpful (one per person, idempotent: 200 whether or not the caller already had)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The post id', example: 44 })
  @ApiOkResponse({ type: DiscussionHelpfulResponse })
  @ApiProblems({ 404: UNREADABLE, 409: 'The post is the caller’s own (`own_post`), or is not shown (deleted, hidden or waiting for a moderator)' })
  async markHelpful(@SignedInUser() user: CurrentUser, @Param('id', id) postId: number): Promise<DiscussionHelpfulResponse> {
    const { helpfulCount } = await this.threads.markHelpful(user, postId);
    return { postId, helpful: true, helpfulCount };
  }

  @Delete('posts/:id/helpful')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unmarkDiscussionPostHelpful', summary: 'Take back the caller’s “helpful” (idempotent: 200 whether or not there was one)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The post id', example: 44 })
  @ApiOkResponse({ type: DiscussionHelpfulResponse })
  @ApiProblems({ 404: UNREADABLE })
  async unmarkHelpful(@SignedInUser() user: CurrentUser, @Param('id', id) postId: number): Promise<DiscussionHelpfulResponse> {
    const { helpfulCount } = await this.threads.unmarkHelpful(user, postId);
    return { postId, helpful: false, helpfulCount };
  }

  @Put('threads/:id/follow')
  @HttpCode(200)
  @ApiOperation({ operationId: 'followDiscussionThread', summary: 'Follow a thread: the caller is told of its replies (idempotent)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The thread id', example: 31 })
  @ApiOkResponse({ type: DiscussionThreadFollowResponse })
  @ApiProblems({ 404: UNREADABLE })
  async followThread(@SignedInUser() user: CurrentUser, @Param('id', id) threadId: number): Promise<DiscussionThreadFollowResponse> {
    await this.threads.followThread(user, threadId, true);
    return { threadId, following: true };
  }

  @Delete('threads/:id/follow')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unfollowDiscussionThread', summary: 'Stop following a thread (idempotent)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The thread id', example: 31 })
  @ApiOkResponse({ type: DiscussionThreadFollowResponse })
  @ApiProblems({ 404: UNREADABLE })
  async unfollowThread(@SignedInUser() user: CurrentUser, @Param('id', id) threadId: number): Promise<DiscussionThreadFollowResponse> {
    await this.threads.followThread(user, threadId, false);
    return { threadId, following: false };
  }

  @Put('spaces/:id/follow')
  @HttpCode(200)
  @ApiOperation({ operationId: 'followDiscussionSpace', summary: 'Follow a space: the caller is told of its new threads (idempotent)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The space id', example: 7 })
  @ApiOkResponse({ type: DiscussionSpaceFollowResponse })
  @ApiProblems({ 404: UNREADABLE })
  async followSpace(@SignedInUser() user: CurrentUser, @Param('id', id) spaceId: number): Promise<DiscussionSpaceFollowResponse> {
    await this.threads.followSpace(user, spaceId, true);
    return { spaceId, following: true };
  }

  @Delete('spaces/:id/follow')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unfollowDiscussionSpace', summary: 'Stop following a space (idempotent)' })
  @ApiParam({ name: 'id', type: 'integer', description: 'The space id', example: 7 })
  @ApiOkResponse({ type: DiscussionSpaceFollowResponse })
  @ApiProblems({ 404: UNREADABLE })
  async unfollowSpace(@SignedInUser() user: CurrentUser, @Param('id', id) spaceId: number): Promise<DiscussionSpaceFollowResponse> {
    await this.threads.followSpace(user, spaceId, false);
    return { spaceId, following: false };
  }

  @Post('conduct')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'acceptDiscussionConduct',
    summary: 'Accept the code of conduct (its text is at /discussions/conduct), needed before a first post; accepting again is success',
  })
  @ApiOkResponse({ type: DiscussionConductResponse })
  async acceptConduct(@SignedInUser() user: CurrentUser): Promise<DiscussionConductResponse> {
    await this.conduct.accept(user.id);
    return { accepted: true, version: CONDUCT_VERSION };
  }

  @Get('subjects/:kind/:subjectId')
  @ApiOperation({
    operationId: 'getDiscussionOfSubject',
    summary: 'The discussion of a course, a lesson, a webinar or an exchange item (made the first time it is asked for)',
    description: 'Its space id is what the thread endpoints take. Readers: a course’s and its lessons’ enrolled learners and author; a webinar’s registrants, waiting list and author; every signed-in member for a published exchange item; moderators and administrators for all.',
  })
  @ApiParam({ name: 'kind', enum: SUBJECT_KINDS, description: 'What it is the discussion of' })
  @ApiParam({ name: 'subjectId', type: 'integer', description: 'The course’s, lesson’s, webinar’s or exchange item’s id', example: 5 })
  @ApiOkResponse({ type: DiscussionSpaceResponse })
  @ApiProblems({ 404: 'No such kind or subject, or the caller may not read its discussion' })
  async subject(@SignedInUser() user: CurrentUser, @Param('kind') kind: string, @Param('subjectId', id) subjectId: number): Promise<DiscussionSpaceResponse> {
    if (!(SUBJECT_KINDS as readonly string[]).includes(kind)) throw new NotFound(`There are discussions of ${SUBJECT_KINDS.join(', ')}: not of “${kind.slice(0, 40)}”`);
    const access = await this.entry.ofSubject(user, kind as SubjectKind, subjectId);
    const { space, subject } = access;
    return {
      id: space.id,
      kind: space.kind,
      title: subject?.title ?? space.title,
      access: space.access,
      threadCount: Number(space.threadCount),
      subject: subject ? { kind: subject.kind, id: subject.id, title: subject.title, url: subject.href } : null,
      following: await this.follows.isFollowing(user.id, { spaceId: space.id }),
      canModerate: access.canModerate,
      url: spaceHref(space.id),
    };
  }
}
