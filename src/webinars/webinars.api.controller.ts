import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { ApiOptionalBearer, ApiProblems } from '../common/openapi';
import { AttendanceService } from './attendance.service';
import { QuestionsService } from './questions.service';
import { webinarDetail } from './webinar-view';
import { ModerateQuestionDto, QuestionDto, RecordingHeartbeatDto, WebinarListQueryDto } from './webinars.dto';
import {
  CancellationResponse,
  ModerationResponse,
  RecordingHeartbeatResponse,
  RegistrationOutcomeResponse,
  VoteResponse,
  WebinarDetailResponse,
  WebinarListResponse,
  WebinarQuestionResponse,
} from './webinars.responses';
import { WebinarsService } from './webinars.service';

const webinarId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no webinar with that id') });
const questionId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no such question') });

@ApiTags('webinars')
@ApiBearerAuth()
@Controller('api/v1/webinars')
export class WebinarsApiController {
  constructor(
    private readonly webinars: WebinarsService,
    private readonly attendance: AttendanceService,
    private readonly questions: QuestionsService,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'listWebinars', summary: 'Published webinars: upcoming (soonest first, with places left) or past (latest first, with recordings); filter by topic' })
  @ApiOkResponse({ type: WebinarListResponse })
  list(@Query() query: WebinarListQueryDto) {
    return this.webinars.list(query.when ?? 'upcoming', { topic: query.topic, page: query.page });
  }

  @Public()
  @Get(':slug')
  @ApiOptionalBearer()
  @ApiOperation({ operationId: 'getWebinar', summary: 'One webinar; for a signed-in learner, their registration (registered or waitlisted, with their place)' })
  @ApiOkResponse({ type: WebinarDetailResponse })
  @ApiProblems({ 404: 'No webinar has that slug, or it is a draft the caller may not see' })
  async detail(@Param('slug') slug: string, @Req() request: FastifyRequest) {
    const viewer = request.identity?.user ?? null;
    const webinar = await this.webinars.bySlug(slug, viewer);
    const [card] = await this.webinars.cards([webinar]);
    const registration = viewer ? await this.webinars.registrationOf(viewer.id, webinar.id) : null;
    const live = registration && registration.status !== 'cancelled' ? registration : null;
    return {
      ...webinarDetail(webinar, card),
      registration: live ? { id: live.id, status: live.status, waitlistPosition: await this.webinars.waitlistPosition(live) } : null,
    };
  }

  @Post(':id/registrations')
  @HttpCode(201)
  @ApiOperation({ operationId: 'registerForWebinar', summary: 'Register the caller (idempotent): says registered, or waitlisted with their place when the webinar is full' })
  @ApiCreatedResponse({ type: RegistrationOutcomeResponse })
  @ApiProblems({ 404: 'No published webinar has that id', 409: 'The webinar has been cancelled or has ended' })
  register(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    return this.webinars.register(user.id, id);
  }

  @Delete(':id/registrations/me')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelWebinarRegistration', summary: 'Cancel the caller’s registration or waitlist place (idempotent); the first on the waitlist takes a freed place' })
  @ApiOkResponse({ type: CancellationResponse })
  @ApiProblems({ 404: 'No published webinar has that id', 409: 'The webinar has ended' })
  cancel(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    return this.webinars.cancelRegistration(user.id, id);
  }

  @Post(':id/recording/heartbeat')
  @HttpCode(200)
  @ApiOperation({ operationId: 'postRecordingHeartbeat', summary: 'Report seconds of the recording watched (as for video lessons); credited once enough is really watched' })
  @ApiOkResponse({ type: RecordingHeartbeatResponse })
  @ApiProblems({ 404: 'No published webinar has that id, or it has no recording to watch here' })
  heartbeat(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Body() input: RecordingHeartbeatDto) {
    return this.attendance.heartbeat(user.id, id, input);
  }

  @Get(':id/questions')
  @ApiOperation({ operationId: 'listWebinarQuestions', summary: 'The live questions, most votes first (registrants, the author and admins)' })
  @ApiOkResponse({ type: [WebinarQuestionResponse] })
  @ApiProblems({ 404: 'No published webinar has that id, or the caller is not registered for it' })
  async listQuestions(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    const webinar = await this.webinars.published(id);
    if (!(await this.questions.canFollow(user, webinar))) throw new NotFound('Register for this webinar to see its questions');
    return this.questions.list(id);
  }

  @Post(':id/questions')
  @HttpCode(201)
  @ApiOperation({ operationId: 'askWebinarQuestion', summary: 'Ask a question (registrants, from 15 minutes before the start to the end); plain text, at most 500 characters' })
  @ApiCreatedResponse({ type: WebinarQuestionResponse })
  @ApiProblems({ 403: 'The caller has no place at this webinar', 404: 'No published webinar has that id', 409: 'Questions are closed (they open 15 minutes before the start and close at the end), or the question is empty' })
  async ask(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Body() input: QuestionDto) {
    return this.questions.ask(user, await this.webinars.published(id), input.body);
  }

  @Post(':id/questions/:questionId/votes')
  @HttpCode(201)
  @ApiOperation({ operationId: 'voteForWebinarQuestion', summary: 'Upvote a question: one vote per learner (a second is refused with 409)' })
  @ApiCreatedResponse({ type: VoteResponse })
  @ApiProblems({ 403: 'The caller has no place at this webinar', 404: 'No published webinar has that id, or no such question in it', 409: 'Already voted, the caller’s own question, or questions are closed' })
  async vote(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Param('questionId', questionId) question: number) {
    return this.questions.vote(user, await this.webinars.published(id), question);
  }

  @Post(':id/questions/:questionId/status')
  @HttpCode(200)
  @ApiOperation({ operationId: 'moderateWebinarQuestion', summary: 'Mark a question answered, hide it or reopen it (the webinar’s author and admins)' })
  @ApiOkResponse({ type: ModerationResponse })
  @ApiProblems({ 403: 'Only the webinar’s author and admins moderate its questions', 404: 'No published webinar has that id, or no such question in it' })
  async moderate(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Param('questionId', questionId) question: number, @Body() input: ModerateQuestionDto) {
    await this.questions.moderate(user, await this.webinars.published(id), question, input.status);
    return { status: input.status };
  }
}
