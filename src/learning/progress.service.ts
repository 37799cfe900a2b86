import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, LessThan, Not, Repository } from 'typeorm';
import { LessonReader, LessonRef, LessonWithCourse, QuizDefinition } from '../catalogue/lesson.reader';
import type { LessonKind } from '../catalogue/entities/lesson.entity';
import { Batcher } from '../common/batcher';
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
import { gradeQuiz, learnerFeedback, QuizFeedback, validateAnswers } from './quiz-grading';

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

export interface AttemptOutcome extends ProgressOutcome, QuizFeedback {
  attemptId: number;
}

/** The problem code of a progress write, or a lesson opened, by someone not enrolled on its course. */
export const NOT_ENROLLED = 'not_enrolled';

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
    if (!enrolment || enrolment.status === 'withdrawn') throw new Forbidden(`Enrol on “${lesson.course.title}” before recording progress in its lessons`, NOT_ENROLLED);
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
   * Heartbeats arrive every few seconds from everyone watching, so they are written in batches (below).
   */
  heartbeat(userId: number, claim: { lessonId: number; from: number; to: number }): Promise<HeartbeatOutcome> {
    return this.heartbeats.submit({ userId, lessonId: claim.lessonId, from: claim.from, to: claim.to });
  }

  private readonly heartbeats = new Batcher<HeartbeatClaim, HeartbeatOutcome>((claims) => this.applyHeartbeats(claims), { maxItems: 250, concurrency: 1 });

  /**
   * A batch of heartbeats: their lessons in one query, then one transaction that locks every enrolment concerned
   * (in index order, so batches of other processes take turns with it rather than deadlock), reads their progress
   * rows in one query, applies each heartbeat in arrival order and writes the changed rows in one statement.
   * A heartbeat that is refused (no such lesson, not enrolled, not a video, a bad interval) gets its own error,
   * in that order of precedence, and changes nothing; the rest are answered once the transaction has committed.
   */
  private async applyHeartbeats(claims: HeartbeatClaim[]): Promise<Array<HeartbeatOutcome | Error>> {
    const results: Array<HeartbeatOutcome | Error> = [];
    const lessons = await this.lessons.lessonRefs(claims.map((c) => c.lessonId));
    const accepted: AcceptedHeartbeat[] = [];
    claims.forEach((claim, index) => {
      const lesson = lessons.get(claim.lessonId);
      if (!lesson || lesson.course.status !== 'published') results[index] = new NotFound('There is no lesson with that id in a published course');
      else accepted.push({ index, claim, lesson });
    });
    if (!accepted.length) return results;
    const newlyCompleted = await this.uow.run((tx) => this.writeHeartbeats(tx, accepted, results));
    for (const enrolmentId of newlyCompleted) await this.enqueueCompletion(enrolmentId);
    return results;
  }

  /** The batch's transaction: fills in each heartbeat's result; returns the enrolments it completed. */
  private async writeHeartbeats(tx: EntityManager, accepted: AcceptedHeartbeat[], results: Array<HeartbeatOutcome | Error>): Promise<number[]> {
    const now = this.clock.now();
    const learnerCourse = (userId: number, courseId: number) => `${userId}:${courseId}`;
    const wanted = new Map(accepted.map(({ claim, lesson }) => [learnerCourse(claim.userId, lesson.courseId), { userId: claim.userId, courseId: lesson.courseId }]));
    const locked = await this.uow.lockAllForUpdate(tx, Enrolment, [...wanted.values()]);
    const enrolments = new Map(locked.filter((e) => e.status !== 'withdrawn').map((e) => [learnerCourse(e.userId, e.courseId), e]));

    const progressKey = (enrolmentId: number, lessonId: number) => `${enrolmentId}:${lessonId}`;
    const keys = new Map<string, { enrolmentId: number; lessonId: number }>();
    for (const { claim, lesson } of accepted) {
      const enrolment = enrolments.get(learnerCourse(claim.userId, lesson.courseId));
      if (enrolment) keys.set(progressKey(enrolment.id, lesson.id), { enrolmentId: enrolment.id, lessonId: lesson.id });
    }
    const progressRows = tx.getRepository(LessonProgress);
    const rows = new Map((keys.size ? await progressRows.find({ where: [...keys.values()] }) : []).map((row) => [progressKey(row.enrolmentId, row.lessonId), row]));

    const changed = new Set<LessonProgress>();
    const lessonFinished = new Set<Enrolment>();
    const applied: Array<{ index: number; enrolment: Enrolment; lessonComplete: boolean; coverage: { coveredSeconds: number; coveredPercent: number }; duration: number }> = [];
    for (const { index, claim, lesson } of accepted) {
      const enrolment = enrolments.get(learnerCourse(claim.userId, lesson.courseId));
      if (!enrolment) {
        results[index] = new Forbidden(`Enrol on “${lesson.course.title}” before recording progress in its lessons`, NOT_ENROLLED);
        continue;
      }
      const duration = lesson.videoSeconds ?? 0;
      if (lesson.kind !== 'video' || !duration) {
        results[index] = new Conflict('Heartbeats are for video lessons; this lesson is not a video');
        continue;
      }
      const key = progressKey(enrolment.id, lesson.id);
      const row = rows.get(key) ?? progressRows.create(newProgress(enrolment.id, lesson.id));
      rows.set(key, row);
      const wasComplete = !!row.completedAt;
      let coverage: { coveredSeconds: number; coveredPercent: number };
      try {
        coverage = applyHeartbeat(row, claim, duration, now); // a bad interval throws before the row is touched
      } catch (err) {
        results[index] = err as Error;
        continue;
      }
      if (coverage.coveredSeconds >= (duration * this.config.videoCompletionPercent) / 100) row.completedAt ??= now;
      row.updatedAt = now;
      changed.add(row);
      if (!wasComplete && row.completedAt) lessonFinished.add(enrolment);
      applied.push({ index, enrolment, lessonComplete: !!row.completedAt, coverage, duration });
    }
    if (changed.size) await progressRows.upsert([...changed].map(progressFields), ['enrolmentId', 'lessonId']);

    const newlyCompleted: number[] = [];
    for (const enrolment of lessonFinished) {
      const { progressPercent, courseComplete } = await this.recount(tx, enrolment);
      const update: Partial<Pick<Enrolment, 'lastActivityAt' | 'progressPercent' | 'status' | 'completedAt'>> = { lastActivityAt: now, progressPercent };
      if (courseComplete && enrolment.status === 'active') Object.assign(update, { status: 'completed', completedAt: now });
      await tx.getRepository(Enrolment).update({ id: enrolment.id }, update);
      if (update.status === 'completed') newlyCompleted.push(enrolment.id);
      Object.assign(enrolment, update);
    }
    const idle = new Set(applied.map((a) => a.enrolment).filter((e) => now.getTime() - e.lastActivityAt.getTime() >= ACTIVITY_RESOLUTION_MS));
    if (idle.size) await tx.getRepository(Enrolment).update({ id: In([...idle].map((e) => e.id)) }, { lastActivityAt: now });

    for (const { index, enrolment, lessonComplete, coverage, duration } of applied) {
      results[index] = {
        lessonComplete,
        courseComplete: enrolment.status === 'completed',
        progressPercent: enrolment.progressPercent,
        coveredSeconds: Math.floor(coverage.coveredSeconds),
        durationSeconds: duration,
        coveredPercent: coverage.coveredPercent,
      };
    }
    return newlyCompleted;
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
    // The right answers leave the service only with a pass (quiz-grading.ts learnerFeedback).
    return { ...outcome, ...learnerFeedback(grade), attemptId };
  }

  quiz(lesson: LessonWithCourse): Promise<QuizDefinition> {
    return this.lessons.quiz(lesson);
  }

  /** The learner's attempts at a quiz, newest first. */
  attemptsAt(enrolmentId: number, lessonId: number): Promise<QuizAttempt[]> {
    return this.attempts.find({ where: { enrolmentId, lessonId }, order: { id: 'DESC' }, take: 20 });
  }

  /** How many learners have progress in any of these lessons, and how many finished at least one (one query). */
  async activityIn(lessonIds: number[]): Promise<{ learners: number; completed: number }> {
    if (!lessonIds.length) return { learners: 0, completed: 0 };
    const row = await this.progress
      .createQueryBuilder('p')
      .select('COUNT(DISTINCT p.enrolment_id)', 'learners')
      .addSelect('COUNT(DISTINCT CASE WHEN p.completed_at IS NOT NULL THEN p.enrolment_id END)', 'completed')
      .where('p.lesson_id IN (:...lessonIds)', { lessonIds })
      .getRawOne<{ learners: number | string; completed: number | string }>();
    return { learners: Number(row?.learners ?? 0), completed: Number(row?.completed ?? 0) };
  }

  /** Progress rows of one enrolment, by lesson id. */
  async progressOf(enrolmentId: number): Promise<Map<number, LessonProgress>> {
    const rows = await this.progress.find({ where: { enrolmentId } });
    return new Map(rows.map((r) => [r.lessonId, r]));
  }

  /** Per quiz lesson of one enrolment: attempts made and the best score so far (one grouped query). */
  async quizRecords(enrolmentId: number): Promise<Map<number, { attempts: number; bestScorePercent: number }>> {
    const rows = await this.attempts
      .createQueryBuilder('a')
      .select('a.lesson_id', 'lessonId')
      .addSelect('COUNT(*)', 'attempts')
      .addSelect('MAX(a.score_percent)', 'best')
      .where('a.enrolment_id = :enrolmentId', { enrolmentId })
      .groupBy('a.lesson_id')
      .getRawMany<{ lessonId: number | string; attempts: number | string; best: number | string }>();
    return new Map(rows.map((r) => [Number(r.lessonId), { attempts: Number(r.attempts), bestScorePercent: Number(r.best) }]));
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
  async recordCompletion(enrolmentId: number, tx?: EntityManager): Promise<void> {
    const result = await (tx?.getRepository(Enrolment) ?? this.enrolments).update({ id: enrolmentId, status: 'completed', completionRecordedAt: IsNull() }, { completionRecordedAt: this.clock.now() });
    if (result.affected) this.logger.log(`Course completed (enrolment ${enrolmentId})`);
  }

  /**
   * Completions not yet recorded as handled: their job never ran (Redis down, a crash between commit and enqueue),
   * or ran and failed for good (the workers' database was away longer than the retries). Enqueued again whatever
   * the queue remembers of them.
   */
  async sweepCompletions(olderThanMs = 60_000): Promise<number> {
    const missed = await this.enrolments.find({
      where: { status: 'completed', completionRecordedAt: IsNull(), completedAt: LessThan(new Date(this.clock.now().getTime() - olderThanMs)) },
      select: { id: true },
      take: 500,
    });
    for (const { id } of missed) await this.enqueueCompletion(id, { rerunFinished: true });
    return missed.length;
  }

  /**
   * One job per completion, retried as long as a certificate's issuing is (8 tries). The sweep enqueues only what the
   * database says is not yet handled, so there a finished job of it (kept for a day, or failed for good) runs again;
   * a completion just made has no job yet, so nothing is looked up first.
   */
  private enqueueCompletion(enrolmentId: number, options: { rerunFinished?: boolean } = {}): Promise<boolean> {
    return this.jobs.tryEnqueue('course.completed', { enrolmentId }, { jobId: `course.completed:${enrolmentId}`, attempts: 8, rerunFinished: options.rerunFinished ?? false });
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
      if (!current || current.status === 'withdrawn') throw new Forbidden(`Enrol on “${lesson.course.title}” before recording progress in its lessons`, NOT_ENROLLED);
      check?.();
      const enrolment = current;
      const rows = tx.getRepository(LessonProgress);
      const existing = await rows.findOneBy({ enrolmentId: enrolment.id, lessonId: lesson.id });
      const row = existing ?? rows.create(newProgress(enrolment.id, lesson.id));
      const wasComplete = !!row.completedAt;
      await change(row, now, tx);
      row.updatedAt = now;
      const { enrolmentId, lessonId, ...fields } = progressFields(row);
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
      this.lessons.lessonOrder(enrolment.courseId, tx),
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

interface HeartbeatClaim {
  userId: number;
  lessonId: number;
  from: number;
  to: number;
}

/** A heartbeat whose lesson exists in a published course, and its place in the batch. */
interface AcceptedHeartbeat {
  index: number;
  claim: HeartbeatClaim;
  lesson: LessonRef;
}

const newProgress = (enrolmentId: number, lessonId: number) => ({ enrolmentId, lessonId, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, completedAt: null, watchAllowanceMs: 0, heartbeatAt: null });

/** A progress row's columns, without the relations TypeORM hangs on the entity. */
function progressFields(row: LessonProgress) {
  const { enrolmentId, lessonId, positionSeconds, coveredSeconds, watchedIntervals, completedAt, watchAllowanceMs, heartbeatAt, updatedAt } = row;
  return { enrolmentId, lessonId, positionSeconds, coveredSeconds, watchedIntervals, completedAt, watchAllowanceMs, heartbeatAt, updatedAt };
}

/** The first unfinished required lesson in syllabus order, else the first unfinished one, else the first. */
export function nextLessonIn(order: Array<{ id: number; required: boolean }>, isDone: (lessonId: number) => boolean): number | null {
  const open = order.filter((l) => !isDone(l.id));
  return (open.find((l) => l.required) ?? open[0] ?? order[0])?.id ?? null;
}

export type { Interval };
