import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { DiscussionAccess, type Viewer } from '../core/discussion-access';
import { DiscussionSpace, DiscussionSpaceMember } from '../entities';

/**
 * Which of many spaces a viewer may read, for lists that gather threads from anywhere (search): the same rules as
 * DiscussionAccess, asked once per community list (one query for the viewer's memberships), once per course (a
 * course's and its lessons' discussions share its readers) and once per other subject, never once per thread or post.
 */
@Injectable()
export class ReadableSpaces {
  constructor(
    @InjectRepository(DiscussionSpaceMember) private readonly members: Repository<DiscussionSpaceMember>,
    private readonly access: DiscussionAccess,
  ) {}

  async among(viewer: Viewer, spaces: readonly DiscussionSpace[]): Promise<Set<number>> {
    if (viewer.role === 'admin' || viewer.role === 'moderator') return new Set(spaces.map((s) => s.id));
    const readable = new Set<number>();
    const communities = spaces.filter((s) => s.kind === 'community');
    communities.filter((s) => s.access === 'open').forEach((s) => readable.add(s.id));
    const membersOnly = communities.filter((s) => s.access !== 'open').map((s) => s.id);
    if (membersOnly.length) {
      const memberships = await this.members.find({ where: { userId: viewer.id, spaceId: In(membersOnly), status: 'member' }, select: { spaceId: true } });
      memberships.forEach((m) => readable.add(m.spaceId));
    }
    // One representative space per reader group: a course's and its lessons' discussions are read by the same people.
    const groups = new Map<string, DiscussionSpace[]>();
    for (const space of spaces) {
      if (space.kind === 'community') continue;
      const key = space.kind === 'course' || space.kind === 'lesson' ? `course:${space.kind === 'course' ? space.subjectId : space.parentId}` : `${space.kind}:${space.subjectId}`;
      groups.set(key, [...(groups.get(key) ?? []), space]);
    }
    for (const group of groups.values()) {
      // A course space says it directly; a lesson's subject is looked up through its course all the same.
      const representative = group.find((s) => s.kind === 'course') ?? group[0];
      if ((await this.access.of(viewer, representative)).canRead) group.forEach((s) => readable.add(s.id));
    }
    return readable;
  }
}
