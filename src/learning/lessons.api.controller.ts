import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import type { LessonWithCourse } from '../catalogue/lesson.reader';
import { Forbidden, NotFound } from '../common/errors';
import { renderMarkdown } from '../common/markdown';
import { ApiProblems } from '../common/openapi';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { coveragePercent, resumePosition } from './coverage';
import type { LessonProgress } from './entities/lesson-progress.entity';
import { HeartbeatDto, QuizAttemptDto, QuizAttemptResponse } from './learning.dto';
import { HeartbeatResponse, LessonQuizResponse, LessonResponse, LessonVideoResponse, ProgressOutcomeResponse } from './learning.responses';
import { LessonAccess, type LessonVisit } from './lesson-access';
import { NOT_ENROLLED, ProgressService } from './progress.service';

const lessonId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no lesson with that id') });

@ApiBearerAuth()
@Controller('api/v1')
export class LessonsApiController {
  constructor(
    private readonly progress: ProgressService,
    private readonly access: LessonAccess,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('lessons/:id')
  @ApiTags('lessons')
  @ApiOperation({
    operationId: 'getLesson',
    summary: 'A lesson to take: its content (sanitised HTML), a video’s URL, length and captions, a resource’s download URL, a quiz’s questions without the answers',
    description:
      'For a learner enrolled on the course, and for the course’s author and admins (who preview it: `preview` is true and nothing is recorded). ' +
      'The file URLs are the lesson page’s own (`/courses/{slug}/lessons/{id}/video`, `…/captions.vtt`, `…/download`): fetch them with the same bearer token; the same people may. Downloading a resource completes it; a video completes by heartbeats, a quiz by a passing attempt, a text lesson by POST …/complete.',
  })
  @ApiOkResponse({ type: LessonResponse })
  @ApiProblems({ 403: 'Not enrolled on the lesson’s course (`not_enrolled`): enrol first (POST /api/v1/enrolments)', 404: 'No lesson has that id, or its course is a draft the caller may not see' })
  async lesson(@SignedInUser() user: CurrentUser, @Param('id', lessonId) id: number): Promise<LessonResponse> {
    const visit = await this.access.byId(id, user);
    if (!visit) throw new Forbidden('Enrol on this course to open its lessons', NOT_ENROLLED);
    return this.lessonView(visit);
  }

  @Post('lessons/:id/complete')
  @HttpCode(200)
  @ApiTags('lessons')
  @ApiOperation({ operationId: 'completeLesson', summary: 'Complete a text or resource lesson (videos complete by watching, quizzes by passing)' })
  @ApiOkResponse({ type: ProgressOutcomeResponse })
  @ApiProblems({
    403: 'Not enrolled on the lesson’s course (`not_enrolled`)',
    404: 'No lesson has that id in a published course',
    409: 'A video or a quiz: those complete by watching and by passing',
  })
  complete(@SignedInUser() user: CurrentUser, @Param('id', lessonId) id: number) {
    return this.progress.markComplete(user.id, id);
  }

  @Post('progress/heartbeat')
  @HttpCode(200)
  @ApiTags('progress')
  @ApiOperation({ operationId: 'postHeartbeat', summary: 'Report seconds of a video watched; coverage is merged and the lesson completes at the set share of its length' })
  @ApiOkResponse({ type: HeartbeatResponse })
  @ApiProblems({
    403: 'Not enrolled on the lesson’s course (`not_enrolled`)',
    404: 'No lesson has that id in a published course',
    409: 'The lesson is not a video',
  })
  heartbeat(@SignedInUser() user: CurrentUser, @Body() input: HeartbeatDto) {
    return this.progress.heartbeat(user.id, input);
  }

  @Post('quizzes/:lessonId/attempts')
  @HttpCode(201)
  @ApiTags('progress')
  @ApiProblems({
    403: 'Not enrolled on the lesson’s course (`not_enrolled`)',
    404: 'No lesson has that id in a published course',
    409: 'The lesson is not a quiz',
  })
  @ApiOperation({
    operationId: 'submitQuizAttempt',
    summary: 'Submit answers to a quiz: graded on the server and kept; returns the score, pass and per-question feedback',
    description: 'Every question says whether it was answered rightly. The right options (`correctOptionIds`) come back only with a pass: after a failed attempt the field is absent, as is the explanation of each question answered wrongly.',
  })
  @ApiCreatedResponse({ type: QuizAttemptResponse })
  async attempt(@SignedInUser() user: CurrentUser, @Param('lessonId', lessonId) id: number, @Body() input: QuizAttemptDto): Promise<QuizAttemptResponse> {
    const result = await this.progress.submitQuiz(user.id, id, input.answers);
    return {
      attemptId: result.attemptId,
      score: result.scorePercent,
      scorePercent: result.scorePercent,
      passMark: result.passMark,
      passed: result.passed,
      questions: result.questions,
      lessonComplete: result.lessonComplete,
      courseComplete: result.courseComplete,
      progressPercent: result.progressPercent,
    };
  }

  /** What a client needs to take the lesson; URLs are absolute (PUBLIC_URL), as elsewhere in the API. */
  private async lessonView(visit: LessonVisit): Promise<LessonResponse> {
    const { course, lesson, enrolment } = visit;
    const order = course.modules.flatMap((m) => m.lessons.map((l) => ({ ...l, module: m })));
    const at = order.findIndex((l) => l.id === lesson.id);
    const progress = enrolment ? await this.progress.progressOf(enrolment.id) : new Map<number, LessonProgress>();
    const mine = progress.get(lesson.id);
    const page = `${this.config.publicUrl}/courses/${course.slug}/lessons/${lesson.id}`;
    return {
      id: lesson.id,
      title: lesson.title,
      kind: lesson.kind,
      minutes: lesson.minutes,
      required: lesson.required,
      course: { id: course.id, slug: course.slug, title: course.title },
      module: { id: order[at]?.module.id ?? lesson.moduleId, title: order[at]?.module.title ?? '' },
      bodyHtml: renderMarkdown(lesson.body),
      durationSeconds: lesson.kind === 'video' ? lesson.videoSeconds : null,
      video: lesson.kind === 'video' && lesson.fileKey ? this.videoView(lesson, page, mine) : null,
      resource: lesson.kind === 'resource' && lesson.fileKey ? { downloadUrl: `${page}/download`, fileName: lesson.fileName ?? 'download', contentType: lesson.fileType ?? 'application/octet-stream' } : null,
      quiz: lesson.kind === 'quiz' ? await this.quizView(visit) : null,
      progress: enrolment ? { complete: !!mine?.completedAt, completedAt: mine?.completedAt ?? null } : null,
      preview: !enrolment,
      previousLessonId: at > 0 ? order[at - 1].id : null,
      nextLessonId: at >= 0 && at < order.length - 1 ? order[at + 1].id : null,
      pageUrl: page,
    };
  }

  private videoView(lesson: LessonWithCourse, page: string, mine: LessonProgress | undefined): LessonVideoResponse {
    const duration = lesson.videoSeconds ?? 0;
    return {
      url: `${page}/video`,
      contentType: lesson.fileType ?? 'video/mp4',
      durationSeconds: lesson.videoSeconds,
      captionsUrl: lesson.captionsKey ? `${page}/captions.vtt` : null,
      heartbeatUrl: `${this.config.publicUrl}/api/v1/progress/heartbeat`,
      resumeAtSeconds: resumePosition(mine, duration),
      coveredSeconds: mine?.coveredSeconds ?? 0,
      coveredPercent: mine ? coveragePercent(mine, duration) : 0,
    };
  }

  /** The questions and options in order, and nothing that says which are right (nor the explanations, which do). */
  private async quizView(visit: LessonVisit): Promise<LessonQuizResponse> {
    const quiz = await this.progress.quiz(visit.lesson);
    const attempts = visit.enrolment ? await this.progress.attemptsAt(visit.enrolment.id, visit.lesson.id) : [];
    return {
      passMark: quiz.passMark,
      questions: quiz.questions.map((q) => ({ id: q.id, prompt: q.prompt, multiple: q.multiple, options: q.options.map((o) => ({ id: o.id, text: o.text })) })),
      attemptsUrl: `${this.config.publicUrl}/api/v1/quizzes/${visit.lesson.id}/attempts`,
      attempts: attempts.map((a) => ({ id: a.id, at: a.createdAt, scorePercent: a.scorePercent, passed: a.passed })),
      passed: attempts.some((a) => a.passed),
    };
  }
}
