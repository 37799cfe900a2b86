import { Clock } from '../common/clock';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, In, Not, Repository } from 'typeorm';
import { CatalogueService, CourseCard } from '../catalogue/catalogue.service';
import type { Course } from '../catalogue/entities/course.entity';
import { NotFound } from '../common/errors';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { Enrolment, EnrolmentStatus } from './entities/enrolment.entity';

export interface CompletionFacts {
  userId: number;
  completedAt: Date;
  course: Pick<Course, 'id' | 'title' | 'cpdMinutes'>;
}

export interface EnrolmentView {
  id: number;
  courseId: number;
  status: EnrolmentStatus;
  progressPercent: number;
  enrolledAt: Date;
  lastActivityAt: Date;
  completedAt: Date | null;
  course: CourseCard;
}

/** Enrolments: enrol (idempotent), withdraw, re-enrol with progress kept, and the learner's list. */
@Injectable()
export class LearningService {
  constructor(
    private readonly clock: Clock,
    @InjectRepository(Enrolment) private readonly enrolments: Repository<Enrolment>,
    private readonly catalogue: CatalogueService,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * Enrols the learner on a published course. Enrolling twice (a double submit, two tabs) is one enrolment:
   * the unique index on (learner, course) decides. A withdrawn enrolment comes back with its progress.
   */
  async enrol(userId: number, courseId: number): Promise<{ enrolment: Enrolment; created: boolean }> {
    await this.catalogue.requirePublished(courseId);
    const now = this.clock.now();
    try {
      const enrolment = await this.uow.run(async (tx) => {
        // The course's counter first: its exclusive row lock makes enrolments on one course take turns. Inserted
        // first, each enrolment's foreign-key check would hold a shared lock on the course row that the
        // counter update then waits for, and two of them deadlock.
        await this.catalogue.countEnrolment(tx, courseId, 1);
        return tx.getRepository(Enrolment).save(
          tx.getRepository(Enrolment).create({ userId, courseId, status: 'active', progressPercent: 0, enrolledAt: now, lastActivityAt: now, withdrawnAt: null, completedAt: null }),
        );
      });
      return { enrolment, created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const existing = await this.enrolments.findOneByOrFail({ userId, courseId });
    if (existing.status === 'withdrawn') {
      await this.uow.run(async (tx) => {
        const back = await tx
          .getRepository(Enrolment)
          .update({ id: existing.id, status: 'withdrawn' }, { status: existing.completedAt ? 'completed' : 'active', withdrawnAt: null, lastActivityAt: now });
        if (back.affected) await this.catalogue.countEnrolment(tx, courseId, 1);
      });
    }
    return { enrolment: await this.enrolments.findOneByOrFail({ id: existing.id }), created: false };
  }

  /** Withdraws from a course in progress. Progress is kept for a later re-enrolment. */
  async withdraw(userId: number, courseId: number): Promise<void> {
    const enrolment = await this.enrolments.findOne({ where: { userId, courseId } });
    if (!enrolment || enrolment.status === 'withdrawn') throw new NotFound('You are not enrolled on this course');
    await this.uow.run(async (tx) => {
      const left = await tx.getRepository(Enrolment).update({ id: enrolment.id, status: 'active' }, { status: 'withdrawn', withdrawnAt: this.clock.now() });
      if (left.affected) await this.catalogue.countEnrolment(tx, courseId, -1);
    });
  }

  /**
   * Courses gone quiet: active enrolments with no activity since `idleBefore`, not reminded since their last
   * activity, nor since `remindedBefore` (oldest first, one batch).
   */
  idleEnrolments(idleBefore: Date, remindedBefore: Date, limit = 500): Promise<Enrolment[]> {
    return this.enrolments
      .createQueryBuilder('e')
      .where('e.status = :status', { status: 'active' })
      .andWhere('e.lastActivityAt < :idleBefore', { idleBefore })
      .andWhere(new Brackets((w) => w.where('e.nudgedAt IS NULL').orWhere('e.nudgedAt < e.lastActivityAt AND e.nudgedAt < :remindedBefore', { remindedBefore })))
      .orderBy('e.lastActivityAt', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Records a reminder, unless the learner has been active (or withdrawn, or finished) in the meantime. */
  async markNudged(enrolmentId: number, lastActivityAt: Date, at: Date): Promise<boolean> {
    const result = await this.enrolments.update({ id: enrolmentId, status: 'active', lastActivityAt }, { nudgedAt: at });
    return !!result.affected;
  }

  /** A completed enrolment, for its certificate; null if there is none or it is not completed. */
  /** A completed enrolment and the course facts its certificate carries, in one query (every certificate asks). */
  async completion(enrolmentId: number): Promise<CompletionFacts | null> {
    const row = await this.enrolments
      .createQueryBuilder('e')
      .innerJoinAndSelect('e.course', 'c')
      .select(['e.id', 'e.userId', 'e.completedAt', 'c.id', 'c.title', 'c.cpdMinutes'])
      .where('e.id = :enrolmentId AND e.status = :completed', { enrolmentId, completed: 'completed' })
      .getOne();
    if (!row?.completedAt) return null;
    const course = row.course as Pick<Course, 'id' | 'title' | 'cpdMinutes'>;
    return { userId: row.userId, completedAt: row.completedAt, course: { id: course.id, title: course.title, cpdMinutes: course.cpdMinutes } };
  }

  /** An enrolment by id with its course's slug and title, whatever their status; null if there is none. */
  async enrolmentById(id: number): Promise<{ enrolment: Enrolment; course: { slug: string; title: string } } | null> {
    const enrolment = await this.enrolments.findOne({ where: { id } });
    if (!enrolment) return null;
    const course = await this.catalogue.courseFacts(enrolment.courseId);
    return course ? { enrolment, course: { slug: course.slug, title: course.title } } : null;
  }

  /** Of these people, those enrolled in the course now or who completed it (not withdrawn): who may read its discussion. */
  async enrolledAmong(courseId: number, userIds: readonly number[]): Promise<Set<number>> {
    if (!userIds.length) return new Set();
    const rows = await this.enrolments.find({ where: { courseId, userId: In([...new Set(userIds)]), status: In(['active', 'completed']) }, select: { userId: true } });
    return new Set(rows.map((r) => r.userId));
  }

  enrolmentFor(userId: number, courseId: number): Promise<Enrolment | null> {
    return this.enrolments.findOne({ where: { userId, courseId } });
  }

  /** The learner's current enrolments, most recently active first, with their courses (two queries). */
  async listFor(userId: number): Promise<EnrolmentView[]> {
    const rows = await this.enrolments.find({ where: { userId, status: Not('withdrawn') }, order: { lastActivityAt: 'DESC', id: 'DESC' }, take: 500 });
    const cards = await this.catalogue.cards(rows.map((r) => r.courseId));
    return rows
      .filter((r) => cards.has(r.courseId))
      .map((r) => ({
        id: r.id,
        courseId: r.courseId,
        status: r.status,
        progressPercent: r.progressPercent,
        enrolledAt: r.enrolledAt,
        lastActivityAt: r.lastActivityAt,
        completedAt: r.completedAt,
        course: cards.get(r.courseId)!,
      }));
  }

  /** The active enrolment the learner worked on last, with its course, or null (two small queries, by index). */
  async latestActive(userId: number): Promise<EnrolmentView | null> {
    const row = await this.enrolments.findOne({ where: { userId, status: 'active' }, order: { lastActivityAt: 'DESC', id: 'DESC' } });
    if (!row) return null;
    const card = (await this.catalogue.cards([row.courseId])).get(row.courseId);
    if (!card) return null;
    return { id: row.id, courseId: row.courseId, status: row.status, progressPercent: row.progressPercent, enrolledAt: row.enrolledAt, lastActivityAt: row.lastActivityAt, completedAt: row.completedAt, course: card };
  }

  /** The learner's enrolment state per course, for catalogue cards (one query). */
  async progressByCourse(userId: number, courseIds: number[]): Promise<Map<number, { status: EnrolmentStatus; progressPercent: number }>> {
    if (!courseIds.length) return new Map();
    const rows = await this.enrolments.find({ where: { userId, courseId: In(courseIds) }, select: { courseId: true, status: true, progressPercent: true } });
    return new Map(rows.map((r) => [r.courseId, { status: r.status, progressPercent: r.progressPercent }]));
  }
}
