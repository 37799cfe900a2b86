import { Injectable } from '@nestjs/common';
import { CatalogueService } from '../../catalogue/catalogue.service';
import { LessonReader } from '../../catalogue/lesson.reader';
import { LearningService } from '../../learning/learning.service';
import { ContributionsReader } from '../../exchange/contributions/contributions.reader';
import { WebinarsService } from '../../webinars/webinars.service';
import type { SpaceKind } from '../entities';

/** What a discussion is about, as the discussions module needs it: its title and page, who wrote it, whether it can be discussed now. */
export interface SpaceSubject {
  kind: Exclude<SpaceKind, 'community'>;
  id: number;
  title: string;
  /** The subject's own page (the course, the lesson, the webinar, the exchange item). */
  href: string;
  /** The course a lesson belongs to, and a course's own id: whose enrolments decide who reads. */
  courseId: number | null;
  /** The course's or webinar's author (who always reads its discussion); null for an exchange item. */
  authorId: number | null;
  /** Whether it is out in the open: a course not in draft, a webinar not in draft, an exchange item published. */
  live: boolean;
}

/**
 * The subjects of discussions, read through the owning modules' services: the one place that knows how to find a
 * course, a lesson, a webinar or an exchange item by id for a discussion.
 */
@Injectable()
export class DiscussionSubjects {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly lessons: LessonReader,
    private readonly webinars: WebinarsService,
    private readonly contributions: ContributionsReader,
    private readonly learning: LearningService,
  ) {}

  async subject(kind: Exclude<SpaceKind, 'community'>, id: number): Promise<SpaceSubject | null> {
    switch (kind) {
      case 'course': {
        const course = await this.catalogue.courseSubject(id);
        if (!course) return null;
        return { kind, id, title: course.title, href: `/courses/${encodeURIComponent(course.slug)}`, courseId: course.id, authorId: course.authorId, live: course.status !== 'draft' };
      }
      case 'lesson': {
        const lesson = await this.lessons.lesson(id);
        if (!lesson) return null;
        const course = lesson.course;
        return {
          kind,
          id,
          title: `${lesson.title} (${course.title})`,
          href: `/courses/${encodeURIComponent(course.slug)}/lessons/${lesson.id}`,
          courseId: course.id,
          authorId: course.authorId,
          live: course.status !== 'draft',
        };
      }
      case 'webinar': {
        const webinar = await this.webinars.webinarById(id);
        if (!webinar) return null;
        return { kind, id, title: webinar.title, href: `/webinars/${encodeURIComponent(webinar.slug)}`, courseId: null, authorId: webinar.authorId, live: webinar.status !== 'draft' };
      }
      case 'exchange': {
        const item = await this.contributions.itemSubject(id);
        if (!item) return null;
        return { kind, id, title: item.title, href: `/exchange/${encodeURIComponent(item.slug)}`, courseId: null, authorId: null, live: item.status === 'published' };
      }
    }
  }

  /** Of these people, those the subject lets read its discussion (enrolled, registered; anyone signed in for the exchange). */
  async readersAmong(subject: SpaceSubject, userIds: readonly number[]): Promise<Set<number>> {
    switch (subject.kind) {
      case 'course':
      case 'lesson':
        return withAuthor(await this.learning.enrolledAmong(subject.courseId!, userIds), subject, userIds);
      case 'webinar':
        return withAuthor(await this.webinars.registeredAmong(subject.id, userIds), subject, userIds);
      case 'exchange':
        return subject.live ? new Set(userIds) : new Set();
    }
  }
}

/** A course's or webinar's author reads its discussion, enrolled or not. */
function withAuthor(readers: Set<number>, subject: SpaceSubject, userIds: readonly number[]): Set<number> {
  if (subject.authorId !== null && userIds.includes(subject.authorId)) readers.add(subject.authorId);
  return readers;
}
