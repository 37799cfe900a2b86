import { randomBytes } from 'node:crypto';
import { Clock } from '../../common/clock';
import { slugify } from '../../common/slug';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { DomainError, FieldErrors, Forbidden, NotFound, ValidationFailed } from '../../common/errors';
import type { PendingUpload } from '../../common/multipart';
import { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { LessonActivity, LessonActivityDirectory } from '../../common/lesson-activity';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { CAPTION_KINDS, RESOURCE_KINDS, VIDEO_KINDS } from '../../storage/content-check';
import { FileStorage } from '../../storage/file-storage';
import { CatalogueService } from '../catalogue.service';
import { CourseModule } from '../entities/course-module.entity';
import { Course, CourseStatus } from '../entities/course.entity';
import { Lesson, LessonKind } from '../entities/lesson.entity';
import { QuizOption, QuizQuestion } from '../entities/quiz-question.entity';
import { Topic } from '../entities/topic.entity';
import { CourseDetailsDto, LessonDto, NewLessonDto, QuestionInput, WebmLengthDto } from './authoring.dto';
import { parseForm } from '../../common/forms';
import { publishingProblems, PublishProblem } from './publishing';
import { claimedKind, isUploadedKey, lessonFileKey, safeFileName, storeUpload, UploadRule } from './uploads';
import { mp4DurationSeconds, storedFileReader } from './video-duration';

export type Direction = 'up' | 'down';

export interface CourseListItem {
  id: number;
  title: string;
  slug: string;
  status: CourseStatus;
  updatedAt: Date;
  mine: boolean;
}

export interface OutlineModule {
  id: number;
  title: string;
  lessons: Lesson[];
}

export interface CourseOutline {
  course: Course;
  topic: Topic;
  modules: OutlineModule[];
  /** What stops publishing; for a published course, what learners would meet that is wrong. */
  problems: PublishProblem[];
}

export interface QuestionWithOptions {
  question: QuizQuestion;
  options: QuizOption[];
}

/** What deleting a module or a lesson would delete, for the page that asks to confirm it. */
export interface DeletionPreview {
  course: Course;
  module: CourseModule;
  /** The lessons that go: the module's, or the one lesson. */
  lessons: Array<Pick<Lesson, 'id' | 'title' | 'kind' | 'fileName' | 'fileKey' | 'captionsKey'>>;
  questionCount: number;
  fileCount: number;
  /** Learners with progress in those lessons (deleted with them). */
  activity: LessonActivity;
}

export interface LessonForEditing {
  course: Course;
  module: CourseModule;
  lesson: Lesson;
  questions: QuestionWithOptions[];
}

/** Refused publishing, with the list of what to fix. */
export class PublishBlocked extends DomainError {
  constructor(readonly problems: PublishProblem[]) {
    super('invalid', 'This course cannot be published yet');
  }
}

export const VIDEO_RULE: UploadRule = { field: 'file', allowed: VIDEO_KINDS, description: 'an MP4 or WebM video' };
export const RESOURCE_RULE: UploadRule = { field: 'file', allowed: RESOURCE_KINDS, description: 'a PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), CSV or ZIP file' };
export const CAPTIONS_RULE: UploadRule = { field: 'captions', allowed: CAPTION_KINDS, description: 'a WebVTT captions file (.vtt)' };

export const DEFAULT_LESSON_MINUTES = 5;
export const DEFAULT_PASS_MARK = 80;


const AUTHORING_ROLES = new Set(['author', 'admin']);

/**
 * Course authoring: an author builds and publishes their own courses, an administrator anyone's. Every
 * method checks the role and the ownership itself (a course of someone else's is "not found", so ids are
 * not confirmed), whatever the controller in front of it does.
 *
 * Unpublishing archives a course rather than making it a draft again: it disappears for learners at once,
 * but keeps its web address (certificates, e-mails and bookmarks point at it) and can be published again.
 */
@Injectable()
export class AuthoringService {
  private readonly logger = new Logger('Authoring');

  constructor(
    private readonly clock: Clock,
    private readonly dataSource: DataSource,
    private readonly unitOfWork: UnitOfWork,
    private readonly catalogue: CatalogueService,
    private readonly storage: FileStorage,
    private readonly activity: LessonActivityDirectory,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  // ---------------------------------------------------------------- courses

  async listCourses(user: CurrentUser): Promise<CourseListItem[]> {
    requireAuthor(user);
    const rows = await this.dataSource.getRepository(Course).find({
      where: user.role === 'admin' ? {} : { authorId: user.id },
      select: { id: true, title: true, slug: true, status: true, updatedAt: true, authorId: true },
      order: { updatedAt: 'DESC', id: 'DESC' },
    });
    return rows.map((c) => ({ id: c.id, title: c.title, slug: c.slug, status: c.status, updatedAt: c.updatedAt, mine: c.authorId === user.id }));
  }

  topics(): Promise<Topic[]> {
    return this.dataSource.getRepository(Topic).find({ order: { name: 'ASC' } });
  }

  async createCourse(user: CurrentUser, input: CourseDetailsDto): Promise<Course> {
    requireAuthor(user);
    return this.write(async (tx) => {
      const topicId = await this.resolveTopic(tx, input);
      const base = slugify(input.title, 110) || 'course';
      const slug = await this.freeSlug(tx, base);
      const now = this.clock.now();
      try {
        return await tx.getRepository(Course).save(
          tx.getRepository(Course).create({
            slug,
            title: input.title,
            summary: input.summary,
            description: input.description ?? '',
            whoFor: input.whoFor ?? '',
            level: input.level,
            estimatedMinutes: 0,
            cpdMinutes: cpdMinutes(input.cpdHours),
            coverImage: null,
            status: 'draft',
            topicId,
            authorId: user.id,
            enrolmentCount: 0,
            publishedAt: null,
            createdAt: now,
            updatedAt: now,
          }),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new ValidationFailed({ title: 'Another course was created with the same title at the same moment. Save again.' });
        throw err;
      }
    });
  }

  async outline(user: CurrentUser, courseId: number): Promise<CourseOutline> {
    const course = await this.editableCourse(this.dataSource.manager, user, courseId);
    const manager = this.dataSource.manager;
    const [topic, modules, lessons] = await Promise.all([
      manager.getRepository(Topic).findOneByOrFail({ id: course.topicId }),
      manager.getRepository(CourseModule).find({ where: { courseId }, order: { position: 'ASC', id: 'ASC' } }),
      manager.getRepository(Lesson).find({ where: { courseId }, order: { position: 'ASC', id: 'ASC' } }),
    ]);
    const { questions, options } = await this.quizContents(manager, lessons);
    return {
      course,
      topic,
      modules: modules.map((m) => ({ id: m.id, title: m.title, lessons: lessons.filter((l) => l.moduleId === m.id) })),
      problems: publishingProblems({ course, modules, lessons, questions, options }),
    };
  }

  async updateCourse(user: CurrentUser, courseId: number, input: CourseDetailsDto): Promise<Course> {
    return this.write(async (tx) => {
      const course = await this.editableCourse(tx, user, courseId);
      const errors: FieldErrors = {};
      if (input.slug !== undefined && input.slug !== course.slug) {
        if (course.status !== 'draft') errors.slug = 'The web address cannot change once a course has been published';
        else if (await tx.getRepository(Course).exists({ where: { slug: input.slug } })) errors.slug = 'That web address is already used by another course';
      }
      const topicId = await this.resolveTopic(tx, input).catch((err: unknown) => {
        if (err instanceof ValidationFailed) Object.assign(errors, err.fieldErrors);
        else throw err;
        return course.topicId;
      });
      if (Object.keys(errors).length) throw new ValidationFailed(errors);
      Object.assign(course, {
        title: input.title,
        slug: input.slug ?? course.slug,
        summary: input.summary,
        description: input.description ?? '',
        whoFor: input.whoFor ?? '',
        level: input.level,
        cpdMinutes: cpdMinutes(input.cpdHours),
        topicId,
        updatedAt: this.clock.now(),
      });
      try {
        return await tx.getRepository(Course).save(course);
      } catch (err) {
        if (isUniqueViolation(err)) throw new ValidationFailed({ slug: 'That web address is already used by another course' });
        throw err;
      }
    });
  }

  /** Publishes once nothing stands in the way; otherwise PublishBlocked lists what to fix. */
  async publish(user: CurrentUser, courseId: number): Promise<Course> {
    return this.write(async (tx) => {
      const course = await this.editableCourse(tx, user, courseId);
      const [modules, lessons] = await Promise.all([tx.getRepository(CourseModule).find({ where: { courseId } }), tx.getRepository(Lesson).find({ where: { courseId } })]);
      const { questions, options } = await this.quizContents(tx, lessons);
      const problems = publishingProblems({ course, modules, lessons, questions, options });
      if (problems.length) throw new PublishBlocked(problems);
      if (course.status === 'published') return course;
      const now = this.clock.now();
      // A course published before keeps its first date, so "newest" is not gamed by republishing.
      await tx.getRepository(Course).update({ id: course.id }, { status: 'published', publishedAt: course.publishedAt ?? now, updatedAt: now });
      return { ...course, status: 'published' as const };
    });
  }

  /** Takes a published course away from learners (archived: see the class comment). */
  async unpublish(user: CurrentUser, courseId: number): Promise<void> {
    await this.write(async (tx) => {
      const course = await this.editableCourse(tx, user, courseId);
      if (course.status !== 'published') return;
      await tx.getRepository(Course).update({ id: course.id }, { status: 'archived', updatedAt: this.clock.now() });
    });
  }

  // ---------------------------------------------------------------- modules

  async addModule(user: CurrentUser, courseId: number, title: string): Promise<CourseModule> {
    return this.write(async (tx) => {
      const course = await this.editableCourse(tx, user, courseId);
      const last = await tx.getRepository(CourseModule).maximum('position', { courseId });
      const module = await tx.getRepository(CourseModule).save({ courseId, position: (last ?? 0) + 1, title });
      await this.touch(tx, course.id);
      return module;
    });
  }

  async module(user: CurrentUser, moduleId: number): Promise<{ course: Course; module: CourseModule; lessonCount: number }> {
    const { course, module } = await this.editableModule(this.dataSource.manager, user, moduleId);
    const lessonCount = await this.dataSource.getRepository(Lesson).count({ where: { moduleId } });
    return { course, module, lessonCount };
  }

  async renameModule(user: CurrentUser, moduleId: number, title: string): Promise<CourseModule> {
    return this.write(async (tx) => {
      const { course, module } = await this.editableModule(tx, user, moduleId);
      await tx.getRepository(CourseModule).update({ id: module.id }, { title });
      await this.touch(tx, course.id);
      return { ...module, title };
    });
  }

  /** What deleting the module would take with it: its lessons, their files and questions, learners' progress. */
  async moduleDeletion(user: CurrentUser, moduleId: number): Promise<DeletionPreview> {
    const manager = this.dataSource.manager;
    const { course, module } = await this.editableModule(manager, user, moduleId);
    const lessons = await manager.getRepository(Lesson).find({ where: { moduleId }, order: { position: 'ASC', id: 'ASC' } });
    return this.deletionPreview(manager, course, module, lessons);
  }

  /** What deleting the lesson would take with it. */
  async lessonDeletion(user: CurrentUser, lessonId: number): Promise<DeletionPreview> {
    const manager = this.dataSource.manager;
    const { course, lesson } = await this.editableLesson(manager, user, lessonId);
    const module = await manager.getRepository(CourseModule).findOneByOrFail({ id: lesson.moduleId });
    return this.deletionPreview(manager, course, module, [lesson]);
  }

  private async deletionPreview(manager: EntityManager, course: Course, module: CourseModule, lessons: Lesson[]): Promise<DeletionPreview> {
    const ids = lessons.map((l) => l.id);
    const [questionCount, activity] = await Promise.all([
      ids.length ? manager.getRepository(QuizQuestion).count({ where: { lessonId: In(ids) } }) : 0,
      this.activity.count(ids),
    ]);
    const fileCount = lessons.flatMap((l) => [l.fileKey, l.captionsKey]).filter((key) => key !== null).length;
    return {
      course,
      module,
      lessons: lessons.map(({ id, title, kind, fileName, fileKey, captionsKey }) => ({ id, title, kind, fileName, fileKey, captionsKey })),
      questionCount,
      fileCount,
      activity,
    };
  }

  /** Deletes a module and its lessons (and their files, once the rows are gone). */
  async deleteModule(user: CurrentUser, moduleId: number): Promise<number> {
    const { courseId, keys } = await this.write(async (tx) => {
      const { course, module } = await this.editableModule(tx, user, moduleId);
      const lessons = await tx.getRepository(Lesson).find({ where: { moduleId }, select: { id: true, fileKey: true, captionsKey: true } });
      await tx.getRepository(Lesson).delete({ moduleId });
      await tx.getRepository(CourseModule).delete({ id: module.id });
      await this.reorder(tx, course.id, (order) => order);
      await this.recount(tx, course.id);
      return { courseId: course.id, keys: lessons.flatMap((l) => [l.fileKey, l.captionsKey]) };
    });
    await this.removeFiles(keys);
    return courseId;
  }

  async moveModule(user: CurrentUser, moduleId: number, direction: Direction): Promise<number> {
    return this.write(async (tx) => {
      const { course } = await this.editableModule(tx, user, moduleId);
      await this.reorder(tx, course.id, (order) => {
        const index = order.findIndex((m) => m.id === moduleId);
        const target = direction === 'up' ? index - 1 : index + 1;
        if (index < 0 || target < 0 || target >= order.length) return order;
        [order[index], order[target]] = [order[target], order[index]];
        return order;
      });
      await this.touch(tx, course.id);
      return course.id;
    });
  }

  // ---------------------------------------------------------------- lessons

  async addLesson(user: CurrentUser, moduleId: number, input: NewLessonDto): Promise<Lesson> {
    return this.write(async (tx) => {
      const { course, module } = await this.editableModule(tx, user, moduleId);
      const lessons = tx.getRepository(Lesson);
      const last = await lessons.maximum('position', { courseId: course.id });
      const lesson = await lessons.save(
        lessons.create({
          moduleId: module.id,
          // Always the module's course: progress and completion rely on it.
          courseId: module.courseId,
          position: (last ?? 0) + 1,
          kind: input.kind,
          title: input.title,
          minutes: DEFAULT_LESSON_MINUTES,
          required: true,
          body: '',
          fileKey: null,
          fileName: null,
          fileType: null,
          captionsKey: null,
          videoSeconds: null,
          passMark: input.kind === 'quiz' ? DEFAULT_PASS_MARK : null,
        }),
      );
      await this.reorder(tx, course.id, (order) => order);
      await this.recount(tx, course.id);
      return lesson;
    });
  }

  async lessonForEditing(user: CurrentUser, lessonId: number): Promise<LessonForEditing> {
    const manager = this.dataSource.manager;
    const { course, lesson } = await this.editableLesson(manager, user, lessonId);
    const module = await manager.getRepository(CourseModule).findOneByOrFail({ id: lesson.moduleId });
    const { questions, options } = await this.quizContents(manager, [lesson]);
    return {
      course,
      module,
      lesson,
      questions: questions.map((question) => ({ question, options: options.filter((o) => o.questionId === question.id) })),
    };
  }

  async updateLesson(user: CurrentUser, lessonId: number, input: LessonDto): Promise<Lesson> {
    return this.write(async (tx) => {
      const { course, lesson } = await this.editableLesson(tx, user, lessonId);
      if (lesson.kind === 'quiz' && input.passMark === undefined) throw new ValidationFailed({ passMark: 'Enter the pass mark, a whole number from 1 to 100' });
      const changes: Partial<Pick<Lesson, 'title' | 'minutes' | 'required' | 'body' | 'passMark' | 'videoSeconds'>> = { title: input.title, minutes: input.minutes, required: input.required === 'yes', body: input.body ?? '' };
      if (lesson.kind === 'quiz') changes.passMark = input.passMark!;
      // A WebM's length cannot be read from the file: its author may correct it here.
      if (lesson.kind === 'video' && lesson.fileType === 'video/webm' && input.videoSeconds !== undefined) changes.videoSeconds = input.videoSeconds;
      await tx.getRepository(Lesson).update({ id: lesson.id }, changes);
      await this.recount(tx, course.id);
      return { ...lesson, ...changes };
    });
  }

  async deleteLesson(user: CurrentUser, lessonId: number): Promise<number> {
    const { courseId, keys } = await this.write(async (tx) => {
      const { course, lesson } = await this.editableLesson(tx, user, lessonId);
      await tx.getRepository(Lesson).delete({ id: lesson.id });
      await this.reorder(tx, course.id, (order) => order);
      await this.recount(tx, course.id);
      return { courseId: course.id, keys: [lesson.fileKey, lesson.captionsKey] };
    });
    await this.removeFiles(keys);
    return courseId;
  }

  /**
   * One step up or down the syllabus: within its module, or across into the end of the module before
   * (start of the module after) when it is already first (last). Lessons never leave their course.
   */
  async moveLesson(user: CurrentUser, lessonId: number, direction: Direction): Promise<number> {
    return this.write(async (tx) => {
      const { course } = await this.editableLesson(tx, user, lessonId);
      await this.reorder(tx, course.id, (order) => {
        const m = order.findIndex((mod) => mod.lessonIds.includes(lessonId));
        if (m < 0) return order;
        const ids = order[m].lessonIds;
        const i = ids.indexOf(lessonId);
        if (direction === 'up' && i > 0) [ids[i - 1], ids[i]] = [ids[i], ids[i - 1]];
        else if (direction === 'down' && i < ids.length - 1) [ids[i], ids[i + 1]] = [ids[i + 1], ids[i]];
        else if (direction === 'up' && m > 0) order[m - 1].lessonIds.push(...ids.splice(i, 1));
        else if (direction === 'down' && m < order.length - 1) order[m + 1].lessonIds.unshift(...ids.splice(i, 1));
        return order;
      });
      await this.touch(tx, course.id);
      return course.id;
    });
  }

  // ---------------------------------------------------------------- files

  /**
   * A video's or resource's file, streamed from the upload into storage under a new key, checked by its
   * bytes; the lesson then points at it and the file it replaces is removed. Any refusal changes nothing.
   */
  async attachLessonFile(user: CurrentUser, lessonId: number, upload: PendingUpload): Promise<Lesson> {
    const { lesson } = await this.editableLesson(this.dataSource.manager, user, lessonId);
    if (lesson.kind !== 'video' && lesson.kind !== 'resource') throw new ValidationFailed({ file: 'Only video and resource lessons have a file' });
    const rule = lesson.kind === 'video' ? VIDEO_RULE : RESOURCE_RULE;
    const kind = claimedKind(upload.file, rule);
    let videoSeconds: number | null = lesson.videoSeconds;
    if (kind.extension === 'webm') videoSeconds = (await parseForm(WebmLengthDto, upload.fields)).videoSeconds;
    const key = lessonFileKey(lesson.id, kind);
    const stored = await storeUpload(this.storage, upload.file!, key, kind, rule, this.config.uploads.maxBytes);
    try {
      if (kind.extension === 'mp4') {
        videoSeconds = await mp4DurationSeconds(storedFileReader(this.storage, key, stored.bytes), stored.bytes);
        if (!videoSeconds) {
          throw new ValidationFailed({ file: 'The length of this MP4 video could not be read from the file (it has no movie header). Export it again as a standard MP4, or upload it as WebM and give its length.' });
        }
      }
      const changes = { fileKey: key, fileName: safeFileName(upload.file!.filename, kind.extension), fileType: kind.mimeType, videoSeconds: lesson.kind === 'video' ? videoSeconds : null };
      const previous = await this.write(async (tx) => {
        const current = await this.editableLesson(tx, user, lessonId);
        await tx.getRepository(Lesson).update({ id: lessonId }, changes);
        await this.touch(tx, current.course.id);
        return current.lesson.fileKey;
      });
      if (previous !== key) await this.removeFiles([previous]);
      return { ...lesson, ...changes };
    } catch (err) {
      await this.storage.remove(key);
      throw err;
    }
  }

  /** A video's captions (WebVTT), replacing any before. */
  async attachCaptions(user: CurrentUser, lessonId: number, upload: PendingUpload): Promise<Lesson> {
    const { lesson } = await this.editableLesson(this.dataSource.manager, user, lessonId);
    if (lesson.kind !== 'video') throw new ValidationFailed({ captions: 'Only video lessons have captions' });
    const kind = claimedKind(upload.file, CAPTIONS_RULE);
    const key = lessonFileKey(lesson.id, kind);
    await storeUpload(this.storage, upload.file!, key, kind, CAPTIONS_RULE, this.config.uploads.maxBytes);
    try {
      const previous = await this.write(async (tx) => {
        const current = await this.editableLesson(tx, user, lessonId);
        await tx.getRepository(Lesson).update({ id: lessonId }, { captionsKey: key });
        await this.touch(tx, current.course.id);
        return current.lesson.captionsKey;
      });
      if (previous !== key) await this.removeFiles([previous]);
      return { ...lesson, captionsKey: key };
    } catch (err) {
      await this.storage.remove(key);
      throw err;
    }
  }

  // ---------------------------------------------------------------- quiz questions

  async question(user: CurrentUser, questionId: number): Promise<{ course: Course; lesson: Lesson } & QuestionWithOptions> {
    const manager = this.dataSource.manager;
    const { course, lesson, question } = await this.editableQuestion(manager, user, questionId);
    const options = await manager.getRepository(QuizOption).find({ where: { questionId }, order: { position: 'ASC', id: 'ASC' } });
    return { course, lesson, question, options };
  }

  async addQuestion(user: CurrentUser, lessonId: number, input: QuestionInput): Promise<QuizQuestion> {
    return this.write(async (tx) => {
      const { course, lesson } = await this.editableLesson(tx, user, lessonId);
      if (lesson.kind !== 'quiz') throw new NotFound('There is no quiz at this address');
      const last = await tx.getRepository(QuizQuestion).maximum('position', { lessonId });
      const question = await tx.getRepository(QuizQuestion).save({ lessonId, position: (last ?? 0) + 1, prompt: input.prompt, multiple: input.multiple, explanation: input.explanation });
      await tx.getRepository(QuizOption).save(input.options.map((o, i) => ({ questionId: question.id, position: i + 1, text: o.text, correct: o.correct })));
      await this.touch(tx, course.id);
      return question;
    });
  }

  /** Options are updated in place by position, so answers already given keep pointing at the same rows. */
  async updateQuestion(user: CurrentUser, questionId: number, input: QuestionInput): Promise<QuizQuestion> {
    return this.write(async (tx) => {
      const { course, question } = await this.editableQuestion(tx, user, questionId);
      await tx.getRepository(QuizQuestion).update({ id: question.id }, { prompt: input.prompt, multiple: input.multiple, explanation: input.explanation });
      const options = tx.getRepository(QuizOption);
      const existing = await options.find({ where: { questionId }, order: { position: 'ASC', id: 'ASC' } });
      for (const [i, wanted] of input.options.entries()) {
        const row = existing[i];
        if (row) await options.update({ id: row.id }, { position: i + 1, text: wanted.text, correct: wanted.correct });
        else await options.save({ questionId, position: i + 1, text: wanted.text, correct: wanted.correct });
      }
      const extra = existing.slice(input.options.length).map((o) => o.id);
      if (extra.length) await options.delete({ id: In(extra) });
      await this.touch(tx, course.id);
      return { ...question, prompt: input.prompt, multiple: input.multiple, explanation: input.explanation };
    });
  }

  async deleteQuestion(user: CurrentUser, questionId: number): Promise<number> {
    return this.write(async (tx) => {
      const { course, lesson, question } = await this.editableQuestion(tx, user, questionId);
      await tx.getRepository(QuizQuestion).delete({ id: question.id });
      await this.renumberQuestions(tx, lesson.id, (ids) => ids);
      await this.touch(tx, course.id);
      return lesson.id;
    });
  }

  async moveQuestion(user: CurrentUser, questionId: number, direction: Direction): Promise<number> {
    return this.write(async (tx) => {
      const { course, lesson } = await this.editableQuestion(tx, user, questionId);
      await this.renumberQuestions(tx, lesson.id, (ids) => {
        const i = ids.indexOf(questionId);
        const j = direction === 'up' ? i - 1 : i + 1;
        if (i >= 0 && j >= 0 && j < ids.length) [ids[i], ids[j]] = [ids[j], ids[i]];
        return ids;
      });
      await this.touch(tx, course.id);
      return lesson.id;
    });
  }

  // ---------------------------------------------------------------- access

  /** The course, if this person may edit it; someone else's course is "not found", never "forbidden". */
  private async editableCourse(manager: EntityManager, user: CurrentUser, courseId: number): Promise<Course> {
    requireAuthor(user);
    const course = await manager.getRepository(Course).findOneBy({ id: courseId });
    if (!course || (user.role !== 'admin' && course.authorId !== user.id)) throw new NotFound('There is no course of yours at this address');
    return course;
  }

  private async editableModule(manager: EntityManager, user: CurrentUser, moduleId: number): Promise<{ course: Course; module: CourseModule }> {
    requireAuthor(user);
    const module = await manager.getRepository(CourseModule).findOneBy({ id: moduleId });
    if (!module) throw new NotFound('There is no module of yours at this address');
    return { course: await this.editableCourse(manager, user, module.courseId), module };
  }

  private async editableLesson(manager: EntityManager, user: CurrentUser, lessonId: number): Promise<{ course: Course; lesson: Lesson }> {
    requireAuthor(user);
    const lesson = await manager.getRepository(Lesson).findOneBy({ id: lessonId });
    if (!lesson) throw new NotFound('There is no lesson of yours at this address');
    return { course: await this.editableCourse(manager, user, lesson.courseId), lesson };
  }

  private async editableQuestion(manager: EntityManager, user: CurrentUser, questionId: number): Promise<{ course: Course; lesson: Lesson; question: QuizQuestion }> {
    requireAuthor(user);
    const question = await manager.getRepository(QuizQuestion).findOneBy({ id: questionId });
    if (!question) throw new NotFound('There is no question of yours at this address');
    return { ...(await this.editableLesson(manager, user, question.lessonId)), question };
  }

  // ---------------------------------------------------------------- helpers

  /**
   * One authoring change in one transaction; then the catalogue's cached pages are dropped, since the change
   * may show there (a published course edited, published or withdrawn, a new topic). Writes here are rare.
   */
  private async write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.unitOfWork.run(work);
    this.catalogue.catalogueChanged();
    return result;
  }

  private async resolveTopic(tx: EntityManager, input: CourseDetailsDto): Promise<number> {
    const topics = tx.getRepository(Topic);
    if (input.newTopic) {
      const slug = slugify(input.newTopic, 80);
      const existing = await topics.findOneBy({ slug });
      if (existing) return existing.id;
      return (await topics.save(topics.create({ slug, name: input.newTopic }))).id;
    }
    if (input.topicId === undefined) throw new ValidationFailed({ topicId: 'Choose a topic, or enter a new one' });
    if (!(await topics.exists({ where: { id: input.topicId } }))) throw new ValidationFailed({ topicId: 'Choose a topic from the list' });
    return input.topicId;
  }

  private async freeSlug(tx: EntityManager, base: string): Promise<string> {
    const courses = tx.getRepository(Course);
    for (let n = 1; n < 1000; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (!(await courses.exists({ where: { slug: candidate } }))) return candidate;
    }
    return `${base}-${randomBytes(4).toString('hex')}`;
  }

  private async quizContents(manager: EntityManager, lessons: Lesson[]): Promise<{ questions: QuizQuestion[]; options: QuizOption[] }> {
    const quizIds = lessons.filter((l) => l.kind === 'quiz').map((l) => l.id);
    if (!quizIds.length) return { questions: [], options: [] };
    const questions = await manager.getRepository(QuizQuestion).find({ where: { lessonId: In(quizIds) }, order: { position: 'ASC', id: 'ASC' } });
    const options = questions.length
      ? await manager.getRepository(QuizOption).find({ where: { questionId: In(questions.map((q) => q.id)) }, order: { position: 'ASC', id: 'ASC' } })
      : [];
    return { questions, options };
  }

  /**
   * Rewrites the order of a course's modules (1…m) and lessons (1…n across the whole syllabus, so ordering
   * by lesson position alone or by module then lesson gives the same answer). `change` rearranges the
   * current order; only rows whose position changes are written.
   */
  private async reorder(tx: EntityManager, courseId: number, change: (order: Array<{ id: number; lessonIds: number[] }>) => Array<{ id: number; lessonIds: number[] }>) {
    const modules = await tx.getRepository(CourseModule).find({ where: { courseId }, select: { id: true, position: true }, order: { position: 'ASC', id: 'ASC' } });
    const lessons = await tx.getRepository(Lesson).find({ where: { courseId }, select: { id: true, moduleId: true, position: true }, order: { position: 'ASC', id: 'ASC' } });
    const order = change(modules.map((m) => ({ id: m.id, lessonIds: lessons.filter((l) => l.moduleId === m.id).map((l) => l.id) })));
    let lessonPosition = 0;
    for (const [index, module] of order.entries()) {
      const before = modules.find((m) => m.id === module.id)!;
      if (before.position !== index + 1) await tx.getRepository(CourseModule).update({ id: module.id }, { position: index + 1 });
      for (const lessonId of module.lessonIds) {
        const lesson = lessons.find((l) => l.id === lessonId)!;
        lessonPosition++;
        if (lesson.position !== lessonPosition || lesson.moduleId !== module.id) await tx.getRepository(Lesson).update({ id: lessonId }, { position: lessonPosition, moduleId: module.id });
      }
    }
  }

  private async renumberQuestions(tx: EntityManager, lessonId: number, change: (ids: number[]) => number[]) {
    const questions = await tx.getRepository(QuizQuestion).find({ where: { lessonId }, select: { id: true, position: true }, order: { position: 'ASC', id: 'ASC' } });
    const ids = change(questions.map((q) => q.id));
    for (const [index, id] of ids.entries()) {
      if (questions.find((q) => q.id === id)!.position !== index + 1) await tx.getRepository(QuizQuestion).update({ id }, { position: index + 1 });
    }
  }

  /** The course's length is the sum of its lessons' minutes, kept in step with every lesson change. */
  private async recount(tx: EntityManager, courseId: number) {
    const minutes = (await tx.getRepository(Lesson).sum('minutes', { courseId })) ?? 0;
    await tx.getRepository(Course).update({ id: courseId }, { estimatedMinutes: Number(minutes), updatedAt: this.clock.now() });
  }

  private async touch(tx: EntityManager, courseId: number) {
    await tx.getRepository(Course).update({ id: courseId }, { updatedAt: this.clock.now() });
  }

  /** Removes files the database no longer points at (after commit); a failure is logged, not fatal. */
  private async removeFiles(keys: Array<string | null>) {
    for (const key of keys) {
      if (!isUploadedKey(key)) continue;
      await this.storage.remove(key).catch((err: unknown) => this.logger.warn(`Could not remove ${key}: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}

function requireAuthor(user: CurrentUser) {
  if (!AUTHORING_ROLES.has(user.role)) throw new Forbidden('Only authors and administrators can build courses');
}

const cpdMinutes = (hours: string) => Math.round(Number(hours) * 60);

/** Kinds of lesson in the order the "add a lesson" form offers them. */
export const LESSON_KIND_LABELS: Record<LessonKind, string> = { text: 'Reading (text)', video: 'Video', quiz: 'Quiz', resource: 'Resource to download' };
