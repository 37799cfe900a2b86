import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import type { Lesson } from '../catalogue/entities/lesson.entity';
import { LessonReader, type QuizDefinition } from '../catalogue/lesson.reader';
import { EXPORT_PAGE_SIZE, pagedRows, PersonalDataRegistry } from '../common/personal-data';
import { Enrolment } from './entities/enrolment.entity';
import { LessonProgress } from './entities/lesson-progress.entity';
import { QuizAttempt } from './entities/quiz-attempt.entity';

const intervals = (json: string | null): Array<[number, number]> => (json ? (JSON.parse(json) as Array<[number, number]>) : []);

/**
 * The learning module's personal data: enrolments, progress in each lesson (read a page at a time: a long-standing
 * learner has thousands of rows) and every quiz attempt with the answers given, in words. Erasing deletes them all and
 * takes the person's enrolments off each course's enrolment count.
 */
@Injectable()
export class LearningPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly catalogue: CatalogueService,
    private readonly lessons: LessonReader,
    @InjectRepository(Enrolment) private readonly enrolments: Repository<Enrolment>,
    @InjectRepository(LessonProgress) private readonly progress: Repository<LessonProgress>,
    @InjectRepository(QuizAttempt) private readonly attempts: Repository<QuizAttempt>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'enrolments',
        description: 'The courses you enrolled on: when, your progress, and when you completed or left each',
        export: (userId) =>
          pagedRows(
            (after: Enrolment | null) =>
              this.enrolments
                .createQueryBuilder('e')
                .innerJoin('e.course', 'c')
                .select(['e.id', 'e.courseId', 'e.status', 'e.progressPercent', 'e.enrolledAt', 'e.lastActivityAt', 'e.withdrawnAt', 'e.completedAt', 'e.nudgedAt'])
                .addSelect(['c.id', 'c.title', 'c.slug'])
                .where('e.userId = :userId', { userId })
                .andWhere('e.id > :after', { after: after?.id ?? 0 })
                .orderBy('e.id')
                .limit(EXPORT_PAGE_SIZE)
                .getMany(),
            (e) => {
              const course = e.course as { title: string; slug: string };
              return {
                id: e.id,
                course: { id: e.courseId, title: course.title, slug: course.slug },
                status: e.status,
                progressPercent: e.progressPercent,
                enrolledAt: e.enrolledAt,
                lastActivityAt: e.lastActivityAt,
                withdrawnAt: e.withdrawnAt,
                completedAt: e.completedAt,
                remindedAt: e.nudgedAt,
              };
            },
          ),
        erase: async (tx, userId) => {
          const rows = await tx.getRepository(Enrolment).find({ where: { userId }, select: { id: true, courseId: true, status: true }, order: { courseId: 'ASC' } });
          // Each course counts its enrolments that are not withdrawn (see LearningService.enrol and withdraw).
          for (const e of rows) if (e.status !== 'withdrawn') await this.catalogue.countEnrolment(tx, e.courseId, -1);
          if (rows.length) await tx.getRepository(Enrolment).delete({ id: In(rows.map((e) => e.id)) });
          return { counts: { enrolments: rows.length } };
        },
      },
      {
        name: 'lessonProgress',
        description: 'Your progress in each lesson: where you were in a video, the parts you watched, and when you completed it',
        export: (userId) =>
          pagedRows(
            (after: LessonProgress | null) => {
              const query = this.progress
                .createQueryBuilder('p')
                .innerJoin('p.enrolment', 'e')
                .leftJoin('p.lesson', 'l')
                .select(['p.enrolmentId', 'p.lessonId', 'p.positionSeconds', 'p.coveredSeconds', 'p.watchedIntervals', 'p.completedAt', 'p.updatedAt'])
                .addSelect(['l.id', 'l.title', 'l.kind'])
                .where('e.userId = :userId', { userId });
              if (after) query.andWhere('(p.enrolmentId > :e OR (p.enrolmentId = :e AND p.lessonId > :l))', { e: after.enrolmentId, l: after.lessonId });
              return query.orderBy('p.enrolmentId').addOrderBy('p.lessonId').limit(EXPORT_PAGE_SIZE).getMany();
            },
            (p) => {
              const lesson = p.lesson as Pick<Lesson, 'title' | 'kind'> | undefined;
              return {
                enrolmentId: p.enrolmentId,
                lesson: { id: p.lessonId, title: lesson?.title ?? null, kind: lesson?.kind ?? null },
                positionSeconds: p.positionSeconds,
                watchedSeconds: p.coveredSeconds,
                watchedIntervals: intervals(p.watchedIntervals),
                completedAt: p.completedAt,
                updatedAt: p.updatedAt,
              };
            },
          ),
        erase: async (tx, userId) => {
          const enrolmentIds = (await tx.getRepository(Enrolment).find({ where: { userId }, select: { id: true } })).map((e) => e.id);
          if (!enrolmentIds.length) return { counts: { lessonProgress: 0 } };
          const deleted = await tx.getRepository(LessonProgress).delete({ enrolmentId: In(enrolmentIds) });
          return { counts: { lessonProgress: deleted.affected ?? 0 } };
        },
      },
      {
        name: 'quizAttempts',
        description: 'Every quiz attempt: the answers you chose, your score and whether you passed',
        export: (userId) => {
          // The quizzes' questions, read once per quiz the person attempted, to give the answers in words.
          const quizzes = new Map<number, Promise<QuizDefinition>>();
          const quizOf = (lessonId: number) => {
            if (!quizzes.has(lessonId)) quizzes.set(lessonId, this.lessons.quiz({ id: lessonId, passMark: null } as Lesson));
            return quizzes.get(lessonId)!;
          };
          return pagedRows(
            (after: QuizAttempt | null) =>
              this.attempts
                .createQueryBuilder('a')
                .innerJoin('a.enrolment', 'e')
                .leftJoin('a.lesson', 'l')
                .select(['a.id', 'a.enrolmentId', 'a.lessonId', 'a.scorePercent', 'a.passed', 'a.answers', 'a.createdAt'])
                .addSelect(['l.id', 'l.title'])
                .where('e.userId = :userId', { userId })
                .andWhere('a.id > :after', { after: after?.id ?? 0 })
                .orderBy('a.id')
                .limit(EXPORT_PAGE_SIZE)
                .getMany(),
            async (a) => {
              const quiz = await quizOf(a.lessonId);
              const chosen = JSON.parse(a.answers) as Record<string, number[]>;
              return {
                id: a.id,
                enrolmentId: a.enrolmentId,
                lesson: { id: a.lessonId, title: (a.lesson as { title?: string } | undefined)?.title ?? null },
                scorePercent: a.scorePercent,
                passed: !!a.passed,
                answers: Object.entries(chosen).map(([questionId, optionIds]) => {
                  const question = quiz.questions.find((q) => q.id === Number(questionId));
                  return {
                    questionId: Number(questionId),
                    question: question?.prompt ?? null,
                    chosen: optionIds.map((id) => ({ optionId: id, text: question?.options.find((o) => o.id === id)?.text ?? null })),
                  };
                }),
                attemptedAt: a.createdAt,
              };
            },
          );
        },
        erase: async (tx, userId) => {
          const enrolmentIds = (await tx.getRepository(Enrolment).find({ where: { userId }, select: { id: true } })).map((e) => e.id);
          if (!enrolmentIds.length) return { counts: { quizAttempts: 0 } };
          const deleted = await tx.getRepository(QuizAttempt).delete({ enrolmentId: In(enrolmentIds) });
          return { counts: { quizAttempts: deleted.affected ?? 0 } };
        },
      },
    );
  }
}
