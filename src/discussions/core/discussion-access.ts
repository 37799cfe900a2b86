import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import type { Role } from '../../accounts/roles';
import { NotFound } from '../../common/errors';
import { DiscussionSpace, DiscussionSpaceMember } from '../entities';
import { DiscussionSubjects, type SpaceSubject } from './discussion-subjects';

/** The message of every discussion a person may not see: the same as for one that does not exist, so it tells nothing. */
export const NO_SUCH_DISCUSSION = 'There is no such discussion, or you cannot see it';

/** Who is asking, as the access rules need it (a signed-in user, or a person looked up for a mention or a notification). */
export type Viewer = Pick<CurrentUser, 'id' | 'role'>;

/** What a viewer may do in a space. */
export interface SpaceAccessView {
  space: DiscussionSpace;
  /** The subject of a course, lesson, webinar or exchange space; null for a community. */
  subject: SpaceSubject | null;
  canRead: boolean;
  /** Pin, lock, hide and restore posts, approve held ones, suspend people. */
  canModerate: boolean;
  /** A community's membership of the viewer, if any. */
  membership: DiscussionSpaceMember | null;
}

const siteModerator = (role: Role) => role === 'admin' || role === 'moderator';

/**
 * Who may read a discussion and who moderates it. Administrators and moderators read and moderate every one; a
 * community's own moderators moderate it. Otherwise: an open community, any signed-in member; a members-only one,
 * its approved members; a course's or lesson's, the course's enrolled learners (and those who completed it) and its
 * author; a webinar's, its registrants (and waiting list) and its author; an exchange item's, anyone signed in once
 * the item is published. A space nobody may read is answered 404, like one that does not exist.
 */
@Injectable()
export class DiscussionAccess {
  constructor(
    @InjectRepository(DiscussionSpaceMember) private readonly members: Repository<DiscussionSpaceMember>,
    private readonly subjects: DiscussionSubjects,
  ) {}

  /** What the viewer may do in the space; `known.membership` when the caller read the viewer's membership with the space (one query less). */
  async of(viewer: Viewer, space: DiscussionSpace, known?: { membership: DiscussionSpaceMember | null }): Promise<SpaceAccessView> {
    const [subject, membership] = await Promise.all([
      space.kind === 'community' || space.subjectId === null ? Promise.resolve(null) : this.subjects.subject(space.kind, space.subjectId),
      space.kind !== 'community' ? Promise.resolve(null) : known ? Promise.resolve(known.membership) : this.members.findOneBy({ spaceId: space.id, userId: viewer.id }),
    ]);
    const spaceModerator = membership?.status === 'member' && membership.role === 'moderator';
    const canModerate = siteModerator(viewer.role) || spaceModerator;
    let canRead = canModerate;
    if (!canRead && space.kind === 'community') canRead = space.access === 'open' || membership?.status === 'member';
    else if (!canRead && subject) canRead = (await this.subjects.readersAmong(subject, [viewer.id])).has(viewer.id);
    return { space, subject, canRead, canModerate, membership };
  }

  /** `of`, refusing with 404 when the viewer may not read the space. */
  async requireReader(viewer: Viewer, space: DiscussionSpace, known?: { membership: DiscussionSpaceMember | null }): Promise<SpaceAccessView> {
    const access = await this.of(viewer, space, known);
    if (!access.canRead) throw new NotFound(NO_SUCH_DISCUSSION);
    return access;
  }

  /**
   * Of these people, those who may read the space: who a mention can reach and whom a notification may go to. One
   * query for the community's memberships or the subject's enrolments, whatever the number of people.
   */
  async readersAmong(space: DiscussionSpace, people: readonly Viewer[]): Promise<Set<number>> {
    if (!people.length) return new Set();
    const readers = new Set(people.filter((p) => siteModerator(p.role)).map((p) => p.id));
    const others = people.filter((p) => !readers.has(p.id)).map((p) => p.id);
    if (!others.length) return readers;
    if (space.kind === 'community') {
      if (space.access === 'open') others.forEach((id) => readers.add(id));
      else (await this.members.find({ where: { spaceId: space.id, userId: In(others), status: 'member' }, select: { userId: true } })).forEach((m) => readers.add(m.userId));
      return readers;
    }
    const subject = space.subjectId === null ? null : await this.subjects.subject(space.kind, space.subjectId);
    if (subject) (await this.subjects.readersAmong(subject, others)).forEach((id) => readers.add(id));
    return readers;
  }
}
