import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { NotFound } from '../../common/errors';
import { isUniqueViolation } from '../../database/errors';
import { DiscussionSpace, type SpaceKind } from '../entities';
import { NO_SUCH_DISCUSSION } from './discussion-access';
import { DiscussionSubjects, type SpaceSubject } from './discussion-subjects';

export type SubjectKind = Exclude<SpaceKind, 'community'>;

/**
 * Finds spaces: a community by id or address, and the one discussion of a course, lesson, webinar or exchange item,
 * made the first time anyone opens it (two people opening it at once make one: the unique key on kind and subject).
 */
@Injectable()
export class DiscussionSpaces {
  constructor(
    @InjectRepository(DiscussionSpace) private readonly spaces: Repository<DiscussionSpace>,
    private readonly subjects: DiscussionSubjects,
    private readonly clock: Clock,
  ) {}

  async byId(id: number): Promise<DiscussionSpace> {
    const space = Number.isSafeInteger(id) && id > 0 ? await this.spaces.findOneBy({ id }) : null;
    if (!space) throw new NotFound(NO_SUCH_DISCUSSION);
    return space;
  }

  async communityBySlug(slug: string): Promise<DiscussionSpace> {
    const space = typeof slug === 'string' && /^[a-z0-9-]{1,120}$/.test(slug) ? await this.spaces.findOneBy({ kind: 'community', slug }) : null;
    if (!space) throw new NotFound('There is no such community');
    return space;
  }

  /** The discussion of a subject, made now if it has none yet; 404 when the subject does not exist. */
  async forSubject(kind: SubjectKind, subjectId: number): Promise<{ space: DiscussionSpace; subject: SpaceSubject }> {
    const subject = Number.isSafeInteger(subjectId) && subjectId > 0 ? await this.subjects.subject(kind, subjectId) : null;
    if (!subject) throw new NotFound(NO_SUCH_DISCUSSION);
    const existing = await this.spaces.findOneBy({ kind, subjectId });
    if (existing) return { space: existing, subject };
    const now = this.clock.now();
    try {
      await this.spaces.insert({ kind, subjectId, parentId: kind === 'lesson' ? subject.courseId : null, slug: null, title: subject.title.slice(0, 200), description: null, access: 'open', threadCount: 0, createdById: null, createdAt: now, updatedAt: now });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return { space: await this.spaces.findOneByOrFail({ kind, subjectId }), subject };
  }
}
