import { Injectable } from '@nestjs/common';
import type { CurrentUser } from '../../accounts/identity';
import { CatalogueService } from '../../catalogue/catalogue.service';
import { LessonReader } from '../../catalogue/lesson.reader';
import { NotFound } from '../../common/errors';
import { ContributionsReader } from '../../exchange/contributions/contributions.reader';
import { WebinarsService } from '../../webinars/webinars.service';
import { DiscussionAccess, NO_SUCH_DISCUSSION, type SpaceAccessView } from '../core/discussion-access';
import { DiscussionSpaces, type SubjectKind } from '../core/discussion-spaces';

/** The kinds of subject that have a discussion of their own, as the API's `{kind}` names them. */
export const SUBJECT_KINDS: readonly SubjectKind[] = ['course', 'lesson', 'webinar', 'exchange'];

/**
 * The way into the discussion of a course, a lesson, a webinar or an exchange item, from the subject's own address:
 * finds the subject as its own module shows it (a draft course or webinar is no subject to anyone but its author and
 * administrators), then its space (made the first time), refusing with 404 those who may not read it, exactly as an
 * unknown subject is refused.
 */
@Injectable()
export class DiscussionEntry {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly lessons: LessonReader,
    private readonly webinars: WebinarsService,
    private readonly contributions: ContributionsReader,
    private readonly spaces: DiscussionSpaces,
    private readonly access: DiscussionAccess,
  ) {}

  async ofCourse(viewer: CurrentUser, slug: string): Promise<SpaceAccessView> {
    const course = await this.catalogue.courseBySlug(slug, viewer);
    return this.ofSubject(viewer, 'course', course.id);
  }

  /** A lesson's discussion, at the lesson's own address: the lesson must be one of that course's. */
  async ofLesson(viewer: CurrentUser, slug: string, lessonId: number): Promise<SpaceAccessView> {
    const lesson = Number.isSafeInteger(lessonId) && lessonId > 0 ? await this.lessons.lesson(lessonId) : null;
    if (!lesson || lesson.course.slug !== slug) throw new NotFound('There is no lesson at this address');
    // The course as its page shows it: a draft course's lessons are no one's but its author's and administrators'.
    await this.catalogue.courseBySlug(slug, viewer);
    return this.ofSubject(viewer, 'lesson', lesson.id);
  }

  async ofWebinar(viewer: CurrentUser, slug: string): Promise<SpaceAccessView> {
    const webinar = await this.webinars.bySlug(slug, viewer);
    return this.ofSubject(viewer, 'webinar', webinar.id);
  }

  async ofExchangeItem(viewer: CurrentUser, slug: string): Promise<SpaceAccessView> {
    const item = await this.contributions.bySlug(slug);
    // An unpublished item's discussion is its moderators' alone (DiscussionAccess), and its slug says nothing to others.
    if (!item) throw new NotFound(NO_SUCH_DISCUSSION);
    return this.ofSubject(viewer, 'exchange', item.id);
  }

  /** The discussion of a subject by its id (the API), made now if it has none yet; 404 when unknown or not readable. */
  async ofSubject(viewer: CurrentUser, kind: SubjectKind, subjectId: number): Promise<SpaceAccessView> {
    const { space } = await this.spaces.forSubject(kind, subjectId);
    return this.access.requireReader(viewer, space);
  }
}
