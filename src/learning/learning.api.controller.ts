import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import { LessonReader } from '../catalogue/lesson.reader';
import { NotFound } from '../common/errors';
import { ApiProblems } from '../common/openapi';
import { coveragePercent, resumePosition } from './coverage';
import { EnrolDto } from './learning.dto';
import { EnrolmentDetailResponse, EnrolmentResponse, EnrolmentSummaryResponse } from './learning.responses';
import { LearningService } from './learning.service';
import { nextLessonIn, ProgressService } from './progress.service';

const enrolmentId = new ParseIntPipe({ exceptionFactory: () => new NotFound('You have no enrolment with that id') });

@ApiTags('enrolments')
@ApiBearerAuth()
@Controller('api/v1/enrolments')
export class LearningApiController {
  constructor(
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly lessons: LessonReader,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ operationId: 'enrol', summary: 'Enrol the caller on a published course; enrolling again returns the same enrolment (200)' })
  @ApiCreatedResponse({ type: EnrolmentResponse, description: 'Enrolled' })
  @ApiOkResponse({ type: EnrolmentResponse, description: 'Already enrolled (or back from withdrawing, with the progress kept): the same enrolment' })
  @ApiProblems({ 404: 'No published course has that id' })
  async enrol(@SignedInUser() user: CurrentUser, @Body() input: EnrolDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { enrolment, created } = await this.learning.enrol(user.id, input.courseId);
    if (!created) reply.status(200);
    return { id: enrolment.id, courseId: enrolment.courseId, status: enrolment.status, progressPercent: enrolment.progressPercent, enrolledAt: enrolment.enrolledAt };
  }

  @Get()
  @ApiOperation({ operationId: 'listEnrolments', summary: "The caller's enrolments with progress percent and status" })
  @ApiOkResponse({ type: [EnrolmentSummaryResponse] })
  async list(@SignedInUser() user: CurrentUser) {
    return (await this.learning.listFor(user.id)).map((e) => ({
      id: e.id,
      courseId: e.courseId,
      courseSlug: e.course.slug,
      courseTitle: e.course.title,
      status: e.status,
      progressPercent: e.progressPercent,
      enrolledAt: e.enrolledAt,
      lastActivityAt: e.lastActivityAt,
      completedAt: e.completedAt,
    }));
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getEnrolment',
    summary: 'One of the caller’s enrolments with its progress in every lesson, in syllabus order, and the lesson to do next',
    description: 'The enrolment’s learner and admins only; anyone else is told it does not exist (404). A withdrawn enrolment is still shown, with its progress kept.',
  })
  @ApiOkResponse({ type: EnrolmentDetailResponse })
  @ApiProblems({ 404: 'The caller has no enrolment with that id' })
  async detail(@SignedInUser() user: CurrentUser, @Param('id', enrolmentId) id: number): Promise<EnrolmentDetailResponse> {
    const found = await this.learning.enrolmentById(id);
    if (!found || (found.enrolment.userId !== user.id && user.role !== 'admin')) throw new NotFound('You have no enrolment with that id');
    const { enrolment, course } = found;
    const [syllabus, progress, quizzes] = await Promise.all([this.lessons.syllabus(enrolment.courseId), this.progress.progressOf(enrolment.id), this.progress.quizRecords(enrolment.id)]);
    const video = (kind: string) => kind === 'video';
    return {
      id: enrolment.id,
      courseId: enrolment.courseId,
      courseSlug: course.slug,
      courseTitle: course.title,
      status: enrolment.status,
      progressPercent: enrolment.progressPercent,
      enrolledAt: enrolment.enrolledAt,
      lastActivityAt: enrolment.lastActivityAt,
      completedAt: enrolment.completedAt,
      nextLessonId: nextLessonIn(syllabus, (lessonId) => !!progress.get(lessonId)?.completedAt),
      lessons: syllabus.map((lesson) => {
        const mine = progress.get(lesson.id);
        const duration = lesson.videoSeconds ?? 0;
        const quiz = lesson.kind === 'quiz' ? (quizzes.get(lesson.id) ?? { attempts: 0, bestScorePercent: null }) : null;
        return {
          lessonId: lesson.id,
          moduleId: lesson.moduleId,
          title: lesson.title,
          kind: lesson.kind,
          required: lesson.required,
          complete: !!mine?.completedAt,
          completedAt: mine?.completedAt ?? null,
          durationSeconds: video(lesson.kind) ? lesson.videoSeconds : null,
          coveredSeconds: video(lesson.kind) ? (mine?.coveredSeconds ?? 0) : null,
          coveredPercent: video(lesson.kind) ? (mine ? coveragePercent(mine, duration) : 0) : null,
          resumeAtSeconds: video(lesson.kind) ? resumePosition(mine, duration) : null,
          attempts: quiz ? quiz.attempts : null,
          bestScorePercent: quiz ? quiz.bestScorePercent : null,
        };
      }),
    };
  }
}
