import { Body, Controller, Get, Param, ParseIntPipe, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import type { LessonWithCourse } from '../catalogue/lesson.reader';
import { DomainError, NotFound } from '../common/errors';
import { errorView } from '../common/forms';
import { renderMarkdown } from '../common/markdown';
import { FileStorage } from '../storage/file-storage';
import { serveFile } from '../storage/serve-file';
import type { Enrolment } from './entities/enrolment.entity';
import { coveragePercent, resumePosition } from './coverage';
import { LearningService } from './learning.service';
import { LessonAccess, type LessonVisit } from './lesson-access';
import { ProgressService } from './progress.service';
import type { QuizFeedback } from './quiz-grading';

const lessonId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no lesson at this address') });

const KIND_LABELS = { text: 'Reading', video: 'Video', quiz: 'Quiz', resource: 'Tool to download' } as const;

/** Lesson pages: read, watch, answer, download; each records progress for an enrolled learner. */
@ApiExcludeController()
@Controller('courses/:slug/lessons/:lessonId')
export class LessonsPagesController {
  constructor(
    private readonly access: LessonAccess,
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly storage: FileStorage,
  ) {}

  @Get()
  async page(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const visit = await this.visit(slug, id, user);
    if (!visit) return reply.redirect(`/courses/${slug}`, 303);
    return this.render(reply, visit);
  }

  @Post('complete')
  async complete(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const visit = await this.requireEnrolled(slug, id, user);
    await this.progress.markComplete(user.id, visit.lesson.id);
    return reply.redirect(this.afterLesson(visit), 303);
  }

  @Post('quiz')
  async quiz(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const visit = await this.requireEnrolled(slug, id, user);
    const answers = Object.fromEntries(
      Object.entries(body ?? {})
        .filter(([key]) => key.startsWith('question-'))
        .map(([key, value]) => [key.slice('question-'.length), (Array.isArray(value) ? value : [value]).map(Number)]),
    );
    try {
      const grade = await this.progress.submitQuiz(user.id, visit.lesson.id, answers);
      reply.status(200);
      return this.render(reply, { ...visit, enrolment: (await this.learning.enrolmentFor(user.id, visit.course.id)) ?? visit.enrolment }, { grade, answers });
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== 'invalid') throw err;
      reply.status(400);
      return this.render(reply, visit, { errors: err.fieldErrors, answers });
    }
  }

  /** The video, with Range support so the player can seek. */
  @Get('video')
  async video(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { lesson } = await this.requireVisit(slug, id, user);
    if (lesson.kind !== 'video' || !lesson.fileKey) throw new NotFound('This lesson has no video');
    return serveFile(this.storage, lesson.fileKey, request, reply, { contentType: lesson.fileType ?? 'video/mp4' });
  }

  @Get('captions.vtt')
  async captions(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { lesson } = await this.requireVisit(slug, id, user);
    if (!lesson.captionsKey) throw new NotFound('This video has no captions');
    return serveFile(this.storage, lesson.captionsKey, request, reply, { contentType: 'text/vtt; charset=utf-8' });
  }

  /** The resource, with its real name and type; downloading it completes the lesson. */
  @Get('download')
  async download(@Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const visit = await this.requireVisit(slug, id, user);
    const { lesson } = visit;
    if (lesson.kind !== 'resource' || !lesson.fileKey) throw new NotFound('This lesson has no file to download');
    if ((await this.storage.size(lesson.fileKey)) === null) throw new NotFound('The file for this lesson is missing');
    if (visit.enrolment) await this.progress.recordDownload(visit.enrolment, lesson);
    return serveFile(this.storage, lesson.fileKey, request, reply, { contentType: lesson.fileType ?? 'application/octet-stream', downloadName: lesson.fileName ?? 'download' });
  }

  /**
   * The course (404 for drafts, except to their author and admins), the lesson (404 unless it belongs to
   * that course) and the learner's enrolment. Null when the visitor may not see lessons: not enrolled.
   * The same rule as the API's (LessonAccess).
   */
  private visit(slug: string, id: number, user: CurrentUser): Promise<LessonVisit | null> {
    return this.access.bySlug(slug, id, user);
  }

  private async requireVisit(slug: string, id: number, user: CurrentUser): Promise<LessonVisit> {
    const visit = await this.visit(slug, id, user);
    if (!visit) throw new NotFound('Enrol on this course to open its lessons');
    return visit;
  }

  private async requireEnrolled(slug: string, id: number, user: CurrentUser): Promise<LessonVisit & { enrolment: Enrolment }> {
    const visit = await this.requireVisit(slug, id, user);
    if (!visit.enrolment) throw new NotFound('Progress is recorded only for learners enrolled on a published course');
    return visit as LessonVisit & { enrolment: Enrolment };
  }

  /** Where "mark as complete" leads: the next lesson, or back to this one when the course is finished. */
  private afterLesson(visit: LessonVisit): string {
    const order = visit.course.modules.flatMap((m) => m.lessons);
    const at = order.findIndex((l) => l.id === visit.lesson.id);
    const next = order[at + 1];
    return next ? `/courses/${visit.course.slug}/lessons/${next.id}` : `/courses/${visit.course.slug}`;
  }

  private async render(reply: FastifyReply, visit: LessonVisit, quizState: { grade?: QuizFeedback; errors?: Record<string, string>; answers?: Record<string, number[]> } = {}) {
    const { course, lesson, enrolment } = visit;
    const progress = enrolment ? await this.progress.progressOf(enrolment.id) : new Map();
    const order = course.modules.flatMap((m) => m.lessons);
    const at = order.findIndex((l) => l.id === lesson.id);
    const mine = progress.get(lesson.id);
    const base = `/courses/${course.slug}/lessons/${lesson.id}`;
    return reply.view('learning/lesson', {
      pageTitle: `${lesson.title} – ${course.title}`,
      course,
      lesson: { ...lesson, kindLabel: KIND_LABELS[lesson.kind], bodyHtml: renderMarkdown(lesson.body, { demoteHeadings: true }) },
      base,
      enrolment,
      preview: !enrolment,
      complete: !!mine?.completedAt,
      syllabus: course.modules.map((m) => ({
        title: m.title,
        lessons: m.lessons.map((l) => ({ ...l, current: l.id === lesson.id, done: !!progress.get(l.id)?.completedAt, href: `/courses/${course.slug}/lessons/${l.id}`, kindLabel: KIND_LABELS[l.kind] })),
      })),
      previous: at > 0 ? { ...order[at - 1], href: `/courses/${course.slug}/lessons/${order[at - 1].id}` } : null,
      next: at < order.length - 1 ? { ...order[at + 1], href: `/courses/${course.slug}/lessons/${order[at + 1].id}` } : null,
      video: lesson.kind === 'video' ? this.videoView(lesson, mine) : null,
      quiz: lesson.kind === 'quiz' ? await this.quizView(visit, quizState) : null,
    });
  }

  private videoView(lesson: LessonWithCourse, mine: { positionSeconds: number; watchedIntervals: string | null } | undefined) {
    const duration = lesson.videoSeconds ?? 0;
    return {
      duration,
      resumeAt: resumePosition(mine, duration),
      coveredPercent: mine ? coveragePercent(mine, duration) : 0,
      // What the player (public/js/video-tracking.js) adds to each heartbeat it posts.
      heartbeatFields: JSON.stringify({ lessonId: lesson.id }),
      type: lesson.fileType ?? 'video/mp4',
      captions: !!lesson.captionsKey,
    };
  }

  private async quizView(visit: LessonVisit, state: { grade?: QuizFeedback; errors?: Record<string, string>; answers?: Record<string, number[]> }) {
    const quiz = await this.progress.quiz(visit.lesson);
    const attempts = visit.enrolment ? await this.progress.attemptsAt(visit.enrolment.id, visit.lesson.id) : [];
    const results = new Map(state.grade?.questions.map((q) => [q.questionId, q]));
    const errors = state.errors ?? {};
    return {
      passMark: quiz.passMark,
      grade: state.grade ?? null,
      errors: Object.keys(errors).length ? errorView(errors, quiz.questions.map((q) => `question-${q.id}`)) : null,
      attempts: attempts.map((a) => ({ at: a.createdAt, scorePercent: a.scorePercent, passed: a.passed })),
      bestPassed: attempts.some((a) => a.passed),
      questions: quiz.questions.map((q, index) => {
        const result = results.get(q.id);
        const chosen = state.answers?.[String(q.id)] ?? [];
        return {
          id: q.id,
          number: index + 1,
          prompt: q.prompt,
          multiple: q.multiple,
          error: errors[`question-${q.id}`],
          result: result
            ? { correct: result.correct, withheld: !result.correctOptionIds, explanationHtml: result.explanation === undefined ? null : renderMarkdown(result.explanation) }
            : null,
          options: q.options.map((o) => ({
            id: o.id,
            text: o.text,
            checked: chosen.includes(o.id),
            // The right answers are named only after a pass: a failed attempt's feedback leaves them out.
            correct: result?.correctOptionIds?.includes(o.id),
          })),
        };
      }),
    };
  }
}
