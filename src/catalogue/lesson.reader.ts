import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import { CATALOGUE_CACHE_MS, CatalogueService } from './catalogue.service';
import { Course } from './entities/course.entity';
import { Lesson } from './entities/lesson.entity';
import { QuizOption, QuizQuestion } from './entities/quiz-question.entity';

export type CourseOfLesson = Pick<Course, 'id' | 'slug' | 'title' | 'status' | 'authorId'>;
export type LessonWithCourse = Lesson & { course: CourseOfLesson };
/** What recording progress needs of a lesson: no body or files. A LessonWithCourse is one too. */
export type LessonRef = Pick<Lesson, 'id' | 'courseId' | 'kind' | 'videoSeconds'> & { course: CourseOfLesson };

export interface QuizDefinition {
  passMark: number;
  questions: Array<{ id: number; prompt: string; multiple: boolean; explanation: string; options: Array<{ id: number; text: string; correct: boolean }> }>;
}

/** Lessons as the learning module needs them: one lesson with its course, a course's lesson order, a quiz. */
@Injectable()
export class LessonReader {
  constructor(
    @InjectRepository(Lesson) private readonly lessons: Repository<Lesson>,
    @InjectRepository(QuizQuestion) private readonly questions: Repository<QuizQuestion>,
    @InjectRepository(QuizOption) private readonly options: Repository<QuizOption>,
    catalogue: CatalogueService,
  ) {
    catalogue.onCatalogueChange(() => this.orders.clear());
  }

  private readonly orders = new TtlCache<Array<{ id: number; required: boolean }>>(CATALOGUE_CACHE_MS, 5000);

  /** One lesson and the essentials of its course, in one query. */
  async lesson(lessonId: number): Promise<LessonWithCourse | null> {
    const lesson = await this.lessons
      .createQueryBuilder('l')
      .innerJoin('l.course', 'c')
      .addSelect(['c.id', 'c.slug', 'c.title', 'c.status', 'c.authorId'])
      .where('l.id = :lessonId', { lessonId })
      .getOne();
    return lesson as LessonWithCourse | null;
  }

  /**
   * `lesson` without the body and files, for several lessons at once: the video player's heartbeats arrive every
   * few seconds from every learner watching, are taken in batches, and need only the kind, length and course.
   */
  async lessonRefs(lessonIds: number[]): Promise<Map<number, LessonRef>> {
    if (!lessonIds.length) return new Map();
    const lessons = await this.lessons
      .createQueryBuilder('l')
      .innerJoin('l.course', 'c')
      .select(['l.id', 'l.courseId', 'l.kind', 'l.videoSeconds', 'c.id', 'c.slug', 'c.title', 'c.status', 'c.authorId'])
      .where({ id: In([...new Set(lessonIds)]) })
      .getMany();
    return new Map((lessons as LessonRef[]).map((lesson) => [lesson.id, lesson]));
  }

  /** The course's lessons in syllabus order (modules by position, then lessons by position); inside a transaction, through `tx`. */
  async lessonOrder(courseId: number, tx?: EntityManager): Promise<Array<Pick<Lesson, 'id' | 'title' | 'kind' | 'required'>>> {
    return (tx?.getRepository(Lesson) ?? this.lessons)
      .createQueryBuilder('l')
      .innerJoin('l.module', 'm')
      .select(['l.id', 'l.title', 'l.kind', 'l.required'])
      .where('l.courseId = :courseId', { courseId })
      .orderBy('m.position', 'ASC')
      .addOrderBy('l.position', 'ASC')
      .getMany();
  }

  /** The course's lessons in syllabus order with what a progress report shows of each (one query). */
  async syllabus(courseId: number): Promise<Array<Pick<Lesson, 'id' | 'moduleId' | 'title' | 'kind' | 'minutes' | 'required' | 'videoSeconds'>>> {
    return this.lessons
      .createQueryBuilder('l')
      .innerJoin('l.module', 'm')
      .select(['l.id', 'l.moduleId', 'l.title', 'l.kind', 'l.minutes', 'l.required', 'l.videoSeconds'])
      .where('l.courseId = :courseId', { courseId })
      .orderBy('m.position', 'ASC')
      .addOrderBy('l.position', 'ASC')
      .getMany();
  }

  /** For several courses at once (for "My learning"): lesson ids in syllabus order, per course. */
  async lessonOrders(courseIds: number[]): Promise<Map<number, Array<{ id: number; required: boolean }>>> {
    if (!courseIds.length) return new Map();
    // Kept like the catalogue's pages (and forgotten with them when any course changes, on every instance).
    const orders = await this.orders.rememberMany(courseIds, async (ids) => {
      const loaded = new Map<number, Array<{ id: number; required: boolean }>>(ids.map((id) => [id, []]));
      const rows = await this.lessons
        .createQueryBuilder('l')
        .innerJoin('l.module', 'm')
        .select(['l.id', 'l.courseId', 'l.required'])
        .where({ courseId: In(ids) })
        .orderBy('m.position', 'ASC')
        .addOrderBy('l.position', 'ASC')
        .getMany();
      for (const row of rows) loaded.get(row.courseId)!.push({ id: row.id, required: row.required });
      return loaded;
    });
    return new Map(courseIds.map((id) => [id, orders.get(id) ?? []]));
  }

  /** A quiz's questions and options in order, the correct ones marked (two queries). */
  async quiz(lesson: Lesson): Promise<QuizDefinition> {
    const questions = await this.questions.find({ where: { lessonId: lesson.id }, order: { position: 'ASC' } });
    const options = questions.length ? await this.options.find({ where: { questionId: In(questions.map((q) => q.id)) }, order: { position: 'ASC' } }) : [];
    return {
      passMark: lesson.passMark ?? 100,
      questions: questions.map((q) => ({
        id: q.id,
        prompt: q.prompt,
        multiple: q.multiple,
        explanation: q.explanation,
        options: options.filter((o) => o.questionId === q.id).map((o) => ({ id: o.id, text: o.text, correct: o.correct })),
      })),
    };
  }
}
