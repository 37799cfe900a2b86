import { Injectable } from '@nestjs/common';
import type { CurrentUser } from '../accounts/identity';
import { CatalogueService, CourseDetail } from '../catalogue/catalogue.service';
import { LessonReader, LessonWithCourse } from '../catalogue/lesson.reader';
import { NotFound } from '../common/errors';
import type { Enrolment } from './entities/enrolment.entity';
import { LearningService } from './learning.service';

export interface LessonVisit {
  course: CourseDetail;
  lesson: LessonWithCourse;
  /** The learner's live enrolment; null when an author or admin previews (or the course is not published). */
  enrolment: Enrolment | null;
}

/**
 * Who may open a lesson, for the lesson pages, their files (video, captions, download) and the API alike: the
 * course must be visible to the caller (drafts 404 except to their author and admins), the lesson must belong to
 * it, and the caller must be enrolled (not withdrawn), or be the course's author or an admin, who preview it.
 */
@Injectable()
export class LessonAccess {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly lessons: LessonReader,
    private readonly learning: LearningService,
  ) {}

  /** The lesson at /courses/{slug}/lessons/{id}; null when the caller may not open it (not enrolled). */
  async bySlug(slug: string, lessonId: number, user: CurrentUser): Promise<LessonVisit | null> {
    const course = await this.catalogue.courseBySlug(slug, user);
    const lesson = await this.lessons.lesson(lessonId);
    if (!lesson || lesson.courseId !== course.id) throw new NotFound('There is no lesson at this address');
    return this.visitOf(course, lesson, user);
  }

  /** The lesson with this id, wherever it is; null when the caller may see its course but not open it (not enrolled). */
  async byId(lessonId: number, user: CurrentUser): Promise<LessonVisit | null> {
    const lesson = await this.lessons.lesson(lessonId);
    if (!lesson) throw new NotFound('There is no lesson with that id');
    // A draft's lessons are as hidden as the draft: the same answer as for a lesson that does not exist.
    const course = await this.catalogue.courseBySlug(lesson.course.slug, user).catch((err: unknown) => {
      throw err instanceof NotFound ? new NotFound('There is no lesson with that id') : err;
    });
    return this.visitOf(course, lesson, user);
  }

  private async visitOf(course: CourseDetail, lesson: LessonWithCourse, user: CurrentUser): Promise<LessonVisit | null> {
    const enrolment = await this.learning.enrolmentFor(user.id, course.id);
    const live = enrolment && enrolment.status !== 'withdrawn' ? enrolment : null;
    const previewer = user.role === 'admin' || user.id === course.authorId;
    if (!live && !previewer) return null;
    return { course, lesson, enrolment: course.status === 'published' ? live : null };
  }
}
