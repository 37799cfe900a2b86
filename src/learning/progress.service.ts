import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, LessThan, Not, Repository } from 'typeorm';
import { LessonReader, LessonRef, LessonWithCourse, QuizDefinition } from '../catalogue/lesson.reader';
import type { LessonKind } from '../catalogue/entities/lesson.entity';
import { Clock } from '../common/clock';
import { Conflict, Forbidden, NotFound } from '../common/errors';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { UnitOfWork } from '../database/unit-of-work';
import { JobsService } from '../jobs/jobs.service';
import { applyHeartbeat, type Interval } from './coverage';
import { Enrolment } from './entities/enrolment.entity';
import { LessonProgress } from './entities/lesson-progress.entity';
import { QuizAttempt } from './entities/quiz-attempt.entity';
import { gradeQuiz, QuizGrade, validateAnswers } from './quiz-grading';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'course.completed': { enrolmentId: number };
    'course.completed.sweep': Record<string, never>;
  }
}

/** What a progress write did, for the page or API response. */
export interface ProgressOutcome {
  lessonComplete: boolean;
  courseComplete: boolean;
  progressPercent: number;
}

export interface HeartbeatOutcome extends ProgressOutcome {
  coveredSeconds: number;
  durationSeconds: number;
  coveredPercent: number;
}

export interface AttemptOutcome extends ProgressOutcome, QuizGrade {
  attemptId: number;
}

/** Only so often is "last activity" rewritten by heartbeats: it orders "My learning", not a stopwatch. */
const ACTIVITY_RESOLUTION_MS = 60_000;

/** The enrolment a progress write locks: one already read, or the learner's on the lesson's course (found under the lock). */
type EnrolmentKey = { id: number } | { userId: number; courseId: number };

/**
 * Lesson progress and course completion. Every write runs in one transaction that holds the enrolment's
 * row lock, so concurrent writes for one learner and course take turns: no coverage is lost or counted
 * twice, and the write that completes the last required lesson completes the course, in that same
 * transaction. The `course.completed` job is enqueued after commit; if that fails, a sweep finds it.
 */
@Injectable()
export class ProgressService {
  private readonly logger = new Logger('Progress');

  constructor(
    @InjectRepository(Enrolment) private readonly enrolments: Repository<Enrolment>,
    @InjectRepository(LessonProgress) private readonly progress: Repository<LessonProgress>,
    @InjectRepository(QuizAttempt) private readonly attempts: Repository<QuizAttempt>,
    private readonly lessons: LessonReader,
    private readonly uow: UnitOfWork,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** A lesson of a published course and the caller's live enrolment on it; a clear 4xx otherwise. */
  async learnerLesson(userId: number, lessonId: number): Promise<{ lesson: LessonWithCourse; enrolment: Enrolment }> {
    const lesson = await this.lessons.lesson(lessonId);
    if (!lesson || lesson.course.status !== 'published') throw new NotFound('There is no lesson with that id in a published course');
    const enrolment = await this.enrolments.findOne({ where: { userId, courseId: lesson.courseId } });
    if (!enrolment || enrolment.status === 'withdrawn') throw new Forbidden(`Enrol on “${lesson.course.title}” before recording progress in its lessons`);
    return { lesson, enrolment };
  }

  /** "Mark as complete" for a text lesson (and, through the API, a resource already downloaded elsewhere). */
  async markComplete(userId: number, lessonId: number): Promise<ProgressOutcome> {
    const { lesson, enrolment } = await this.learnerLesson(userId, lessonId);
    const how: Record<LessonKind, string | null> = {
      text: null,
      resource: null,
      video: 'A video lesson is complete once you have watched it',
      quiz: 'A quiz is complete once you pass it',
    };
    if (how[lesson.kind]) throw new Conflict(how[lesson.kind]!);
    return this.write(enrolment, lesson, null, (row, now) => {
      row.completedAt ??= now;
    });
  }

  /** A resource download: the download is what completes a resource lesson. */
  async recordDownload(enrolment: Enrolment, lesson: LessonWithCourse): Promise<ProgressOutcome> {
    return this.write(enrolment, lesson, null, (row, now) => {
      row.completedAt ??= now;
    });
  }

  /**
   * One heartbeat of the video player: the learner watched [from, to) seconds. Coverage is merged under
   * the enrolment lock; the lesson completes when the covered share reaches VIDEO_COMPLETION_PERCENT.
   */
  async heartbeat(userId: number, claim: { lessonId: number; from: number; to: number }): Promise<HeartbeatOutcome> {
    // The hot path of progress (every few seconds per learner watching): the lesson without its body, and the
    // enrolment read once, under its lock, rather than once before the transaction and again inside it.
    const lesson = await this.lessons.lessonRef(claim.lessonId);
    if (!lesson || lesson.course.status !== 'published') throw new NotFound('There is no lesson with that id in a published course');
    const duration = lesson.videoSeconds ?? 0;
    const needed = (duration * this.config.videoCompletionPercent) / 100;
    // Checked once the enrolment is known, so a learner who is not enrolled hears that first, as before; the
    // interval itself is checked next, by applyHeartbeat, before anything is written.
    const checkKind = () => {
      if (lesson.kind !== 'video' || !lesson.videoSeconds) throw new Conflict('Heartbeats are for video lessons; this lesson is not a video');
    };
    let coverage = { coveredSeconds: 0, coveredPercent: 0 };
    const outcome = await this.write({ userId, courseId: lesson.courseId }, lesson, checkKind, (row, now) => {
      coverage = applyHeartbeat(row, claim, duration, now);
      if (coverage.coveredSeconds >= needed) row.completedAt ??= now;
    });
    return { ...outcome, coveredSeconds: Math.floor(coverage.coveredSeconds), durationSeconds: duration, coveredPercent: coverage.coveredPercent };
  }

  /** Grades a quiz attempt on the server and keeps it; the first pass completes the lesson. */
  async submitQuiz(userId: number, lessonId: number, answers: unknown): Promise<AttemptOutcome> {
    const { lesson, enrolment } = await this.learnerLesson(userId, lessonId);
    if (lesson.kind !== 'quiz') throw new Conflict('This lesson is not a quiz');
    const quiz = await this.lessons.quiz(lesson);
    const grade = gradeQuiz(quiz, validateAnswers(quiz, answers));
    let attemptId = 0;
    const outcome = await this.write(enrolment, lesson, null, async (row, now, tx) => {
      const saved = await tx.getRepository(QuizAttempt).insert({
        enrolmentId: enrolment.id,
        lessonId: lesson.id,
        scorePercent: grade.scorePercent,
        passed: grade.passed,
        answers: JSON.stringify(Object.fromEntries(grade.questions.map((q) => [q.questionId, q.chosenOptionIds]))),
        createdAt: now,
      });
      attemptId = Number(saved.identifiers[0].id);
      if (grade.passed) row.completedAt ??= now;
    });
    return { ...outcome, ...grade, attemptId };
  }

  quiz(lesson: LessonWithCourse): Promise<QuizDefinition> {
    return this.lessons.quiz(lesson);
  }

  /** The learner's attempts at a quiz, newest first. */
  attemptsAt(enrolmentId: number, lessonId: number): Promise<QuizAttempt[]> {
    return this.attempts.find({ where: { enrolmentId, lessonId }, order: { id: 'DESC' }, take: 20 });
  }

  /** Progress rows of one enrolment, by lesson id. */
  async progressOf(enrolmentId: number): Promise<Map<number, LessonProgress>> {
    const rows = await this.progress.find({ where: { enrolmentId } });
    return new Map(rows.map((r) => [r.lessonId, r]));
  }

  /**
   * The next lesson to do, per enrolment: the first unfinished required lesson in syllabus order, else the
   * first unfinished lesson, else the first lesson (three queries, however many enrolments).
   */
  async nextLessons(enrolments: Array<{ id: number; courseId: number }>): Promise<Map<number, number | null>> {
    if (!enrolments.length) return new Map();
    const [orders, done] = await Promise.all([
      this.lessons.lessonOrders([...new Set(enrolments.map((e) => e.courseId))]),
      this.progress.find({ where: { enrolmentId: In(enrolments.map((e) => e.id)), completedAt: Not(IsNull()) }, select: { enrolmentId: true, lessonId: true } }),
    ]);
    const finished = new Set(done.map((d) => `${d.enrolmentId}:${d.lessonId}`));
    return new Map(enrolments.map((e) => [e.id, nextLessonIn(orders.get(e.courseId) ?? [], (lessonId) => finished.has(`${e.id}:${lessonId}`))]));
  }

  /** Records that a completion was handled: called once the course's certificate exists. */
  async recordCompletion(enrolmentId: number): Promise<void> {
    const result = await this.enrolments.update({ id: enrolmentId, status: 'completed', completionRecordedAt: IsNull() }, { completionRecordedAt: this.clock.now() });
    if (result.affected) this.logger.log(`Course completed (enrolment ${enrolmentId})`);
  }

  /** Completions whose job never ran (Redis down, a crash between commit and enqueue): enqueue them again. */
  async sweepCompletions(olderThanMs = 60_000): Promise<number> {
    const missed = await this.enrolments.find({
      where: { status: 'completed', completionRecordedAt: IsNull(), completedAt: LessThan(new Date(this.clock.now().getTime() - olderThanMs)) },
      select: { id: true },
      take: 500,
    });
    for (const { id } of missed) await this.enqueueCompletion(id);
    return missed.length;
  }

  private enqueueCompletion(enrolmentId: number): Promise<boolean> {
    return this.jobs.tryEnqueue('course.completed', { enrolmentId }, { jobId: `course.completed:${enrolmentId}` });
  }

  /**
   * The one way progress is written: lock the enrolment, change the lesson's progress row, and if that
   * finished the lesson, recount the course and complete the enrolment when every required lesson is done.
   * `check`, if given, runs once the live enrolment is locked and may refuse the write (nothing is written).
   */
  private async write(
    key: EnrolmentKey,
    lesson: LessonRef,
    check: (() => void) | null,
    change: (row: LessonProgress, now: Date, tx: EntityManager) => void | Promise<void>,
  ): Promise<ProgressOutcome> {
    const now = this.clock.now();
    const outcome = await this.uow.run(async (tx) => {
      const current = await this.uow.lockForUpdate(tx, Enrolment, 'id' in key ? { id: key.id } : { userId: key.userId, courseId: key.courseId });
      if (!current || current.status === 'withdrawn') throw new Forbidden(`Enrol on “${lesson.course.title}” before recording progress in its lessons`);
      check?.();
      const enrolment = current;
      const rows = tx.getRepository(LessonProgress);
      const existing = await rows.findOneBy({ enrolmentId: enrolment.id, lessonId: lesson.id });
      const row = existing ?? rows.create({ enrolmentId: enrolment.id, lessonId: lesson.id, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, completedAt: null, watchAllowanceMs: 0, heartbeatAt: null });
      const wasComplete = !!row.completedAt;
      await change(row, now, tx);
      row.updatedAt = now;
      const { enrolmentId, lessonId, enrolment: _e, lesson: _l, ...fields } = row;
      if (existing) await rows.update({ enrolmentId, lessonId }, fields);
      else await rows.insert({ enrolmentId, lessonId, ...fields });

      const update: Partial<Pick<Enrolment, 'lastActivityAt' | 'progressPercent' | 'status' | 'completedAt'>> = {};
      if (now.getTime() - current.lastActivityAt.getTime() >= ACTIVITY_RESOLUTION_MS || row.completedAt !== null) update.lastActivityAt = now;
      let courseComplete = current.status === 'completed';
      let progressPercent = current.progressPercent;
      if (!wasComplete && row.completedAt) {
        ({ progressPercent, courseComplete } = await this.recount(tx, current));
        update.progressPercent = progressPercent;
        if (courseComplete && current.status === 'active') Object.assign(update, { status: 'completed', completedAt: now });
      }
      if (Object.keys(update).length) await tx.getRepository(Enrolment).update({ id: enrolment.id }, update);
      return { enrolmentId: enrolment.id, lessonComplete: !!row.completedAt, courseComplete, progressPercent, newlyCompleted: update.status === 'completed' };
    });
    if (outcome.newlyCompleted) await this.enqueueCompletion(outcome.enrolmentId);
    return { lessonComplete: outcome.lessonComplete, courseComplete: outcome.courseComplete, progressPercent: outcome.progressPercent };
  }

  /** Percent of required lessons done (of all lessons, if none is required), read inside the transaction. */
  private async recount(tx: EntityManager, enrolment: Enrolment): Promise<{ progressPercent: number; courseComplete: boolean }> {
    const [order, done] = await Promise.all([
      this.lessons.lessonOrder(enrolment.courseId),
      tx.getRepository(LessonProgress).find({ where: { enrolmentId: enrolment.id, completedAt: Not(IsNull()) }, select: { lessonId: true } }),
    ]);
    const counted = order.some((l) => l.required) ? order.filter((l) => l.required) : order;
    const finished = new Set(done.map((d) => d.lessonId));
    const finishedCount = counted.filter((l) => finished.has(l.id)).length;
    return {
      progressPercent: counted.length ? Math.floor((finishedCount / counted.length) * 100) : 0,
      courseComplete: counted.length > 0 && finishedCount === counted.length,
    };
  }
}

/** The first unfinished required lesson in syllabus order, else the first unfinished one, else the first. */
export function nextLessonIn(order: Array<{ id: number; required: boolean }>, isDone: (lessonId: number) => boolean): number | null {
  const open = order.filter((l) => !isDone(l.id));
  return (open.find((l) => l.required) ?? open[0] ?? order[0])?.id ?? null;
}

export type { Interval };
