import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { AttendanceService } from './attendance.service';
import { QuestionsService } from './questions.service';
import { webinarDetail } from './webinar-view';
import { ModerateQuestionDto, QuestionDto, RecordingHeartbeatDto, WebinarListQueryDto } from './webinars.dto';
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
  @ApiOperation({ summary: 'Published webinars: upcoming (soonest first, with places left) or past (latest first, with recordings); filter by topic' })
  list(@Query() query: WebinarListQueryDto) {
    return this.webinars.list(query.when ?? 'upcoming', { topic: query.topic, page: query.page });
  }

  @Public()
  @Get(':slug')
  @ApiOperation({ summary: 'One webinar; for a signed-in learner, their registration (registered or waitlisted, with their place)' })
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
  @ApiOperation({ summary: 'Register the caller (idempotent): says registered, or waitlisted with their place when the webinar is full' })
  register(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    return this.webinars.register(user.id, id);
  }

  @Delete(':id/registrations/me')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel the caller’s registration or waitlist place (idempotent); the first on the waitlist takes a freed place' })
  cancel(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    return this.webinars.cancelRegistration(user.id, id);
  }

  @Post(':id/recording/heartbeat')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report seconds of the recording watched (as for video lessons); credited once enough is really watched' })
  heartbeat(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Body() input: RecordingHeartbeatDto) {
    return this.attendance.heartbeat(user.id, id, input);
  }

  @Get(':id/questions')
  @ApiOperation({ summary: 'The live questions, most votes first (registrants, the author and admins)' })
  async listQuestions(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number) {
    const webinar = await this.webinars.published(id);
    if (!(await this.questions.canFollow(user, webinar))) throw new NotFound('Register for this webinar to see its questions');
    return this.questions.list(id);
  }

  @Post(':id/questions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Ask a question (registrants, from 15 minutes before the start to the end); plain text, at most 500 characters' })
  async ask(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Body() input: QuestionDto) {
    return this.questions.ask(user, await this.webinars.published(id), input.body);
  }

  @Post(':id/questions/:questionId/votes')
  @HttpCode(201)
  @ApiOperation({ summary: 'Upvote a question: one vote per learner (a second is refused with 409)' })
  async vote(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Param('questionId', questionId) question: number) {
    return this.questions.vote(user, await this.webinars.published(id), question);
  }

  @Post(':id/questions/:questionId/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a question answered, hide it or reopen it (the webinar’s author and admins)' })
  async moderate(@SignedInUser() user: CurrentUser, @Param('id', webinarId) id: number, @Param('questionId', questionId) question: number, @Body() input: ModerateQuestionDto) {
    await this.questions.moderate(user, await this.webinars.published(id), question, input.status);
    return { status: input.status };
  }
}
