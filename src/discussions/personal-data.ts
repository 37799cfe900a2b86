import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThan, Repository } from 'typeorm';
import { EXPORT_PAGE_SIZE, PersonalDataRegistry } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import {
  ConductAcceptance,
  DiscussionFollow,
  DiscussionMention,
  DiscussionPost,
  DiscussionReport,
  DiscussionSpace,
  DiscussionSpaceMember,
  DiscussionSuspension,
  DiscussionThread,
  DiscussionVote,
} from './entities';

type SpaceRef = Pick<DiscussionSpace, 'id' | 'kind' | 'title'>;
const spaceOf = (s: SpaceRef | undefined) => (s ? { id: s.id, kind: s.kind, title: s.title } : null);

/**
 * The discussions' personal data: what the person wrote (every post, with its thread's title and where it is), and
 * what they did besides: helpful votes, follows, reports they made, community memberships, suspensions and their
 * acceptance of the code of conduct.
 *
 * Erasing keeps their posts and threads, because other people's replies answer them and conversations must still
 * read, but no longer says who wrote them (authorId null: pages show "A former member"); everything else that is
 * theirs goes (votes counted down in the same transaction), and what they did as a moderator stays without their id.
 */
@Injectable()
export class DiscussionsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly uow: UnitOfWork,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionSpace) private readonly spaces: Repository<DiscussionSpace>,
    @InjectRepository(DiscussionVote) private readonly votes: Repository<DiscussionVote>,
    @InjectRepository(DiscussionFollow) private readonly follows: Repository<DiscussionFollow>,
    @InjectRepository(DiscussionReport) private readonly reports: Repository<DiscussionReport>,
    @InjectRepository(DiscussionSpaceMember) private readonly members: Repository<DiscussionSpaceMember>,
    @InjectRepository(DiscussionSuspension) private readonly suspensions: Repository<DiscussionSuspension>,
    @InjectRepository(ConductAcceptance) private readonly conduct: Repository<ConductAcceptance>,
    @InjectRepository(DiscussionMention) private readonly mentions: Repository<DiscussionMention>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'discussionPosts',
        description: 'Everything you wrote in discussions: threads you started and replies, with their state (a moderator’s reason, if one hid a post)',
        export: (userId) => this.exportPosts(userId),
        erase: async (tx, userId) => {
          const posts = (await tx.getRepository(DiscussionPost).update({ authorId: userId }, { authorId: null })).affected ?? 0;
          const threads = (await tx.getRepository(DiscussionThread).update({ authorId: userId }, { authorId: null })).affected ?? 0;
          return { counts: { discussionPostsKeptWithoutAuthor: posts, discussionThreadsKeptWithoutAuthor: threads } };
        },
      },
      {
        name: 'discussions',
        description: 'The discussion posts you marked helpful, the threads and spaces you follow, posts you reported, your community memberships, suspensions from posting and your acceptance of the code of conduct',
        export: (userId) => this.exportTheRest(userId),
        erase: async (tx, userId) => {
          // Locked first, so that a vote being taken back at this moment is not counted down twice.
          const votes = await this.uow.lockAllForUpdate(tx, DiscussionVote, [{ userId }]);
          if (votes.length) {
            await tx.getRepository(DiscussionPost).decrement({ id: In(votes.map((v) => v.postId)) }, 'helpfulCount', 1);
            await tx.getRepository(DiscussionVote).delete({ id: In(votes.map((v) => v.id)) });
          }
          const count = async (work: Promise<{ affected?: number | null }>) => (await work).affected ?? 0;
          const counts = {
            discussionHelpfulVotes: votes.length,
            discussionFollows: await count(tx.getRepository(DiscussionFollow).delete({ userId })),
            discussionMentions: await count(tx.getRepository(DiscussionMention).delete({ userId })),
            discussionMemberships: await count(tx.getRepository(DiscussionSpaceMember).delete({ userId })),
            discussionSuspensions: await count(tx.getRepository(DiscussionSuspension).delete({ userId })),
            discussionConductAcceptances: await count(tx.getRepository(ConductAcceptance).delete({ userId })),
            // Reports stay with the moderators' decisions on them; they no longer say who made them.
            discussionReportsKeptWithoutReporter: await count(tx.getRepository(DiscussionReport).update({ reporterId: userId }, { reporterId: null })),
          };
          // What they did as a moderator or administrator stays, without their id (the audit log keeps who did it).
          await tx.getRepository(DiscussionReport).update({ decidedById: userId }, { decidedById: null });
          await tx.getRepository(DiscussionSuspension).update({ suspendedById: userId }, { suspendedById: null });
          await tx.getRepository(DiscussionSpaceMember).update({ decidedById: userId }, { decidedById: null });
          await tx.getRepository(DiscussionSpace).update({ createdById: userId }, { createdById: null });
          return { counts };
        },
      },
    );
  }

  /** Their posts a page at a time (by id), each page's threads and spaces in two more queries. */
  private async *exportPosts(userId: number): AsyncGenerator<unknown> {
    let after = 0;
    for (;;) {
      const page = await this.posts.find({
        where: { authorId: userId, id: MoreThan(after) },
        select: { id: true, threadId: true, isOpening: true, body: true, status: true, statusReason: true, quotedPostId: true, helpfulCount: true, createdAt: true, editedAt: true },
        order: { id: 'ASC' },
        take: EXPORT_PAGE_SIZE,
      });
      if (!page.length) return;
      const threads = await this.threads.find({ where: { id: In([...new Set(page.map((p) => p.threadId))]) }, select: { id: true, title: true, kind: true, spaceId: true } });
      const spaces = await this.spaces.find({ where: { id: In([...new Set(threads.map((t) => t.spaceId))]) }, select: { id: true, kind: true, title: true } });
      for (const post of page) {
        const thread = threads.find((t) => t.id === post.threadId);
        yield {
          id: post.id,
          thread: thread ? { id: thread.id, title: thread.title, kind: thread.kind } : null,
          space: spaceOf(spaces.find((s) => s.id === thread?.spaceId)),
          opening: post.isOpening,
          body: post.body,
          status: post.status,
          statusReason: post.statusReason,
          quotedPostId: post.quotedPostId,
          helpfulCount: post.helpfulCount,
          createdAt: post.createdAt,
          editedAt: post.editedAt,
        };
      }
      if (page.length < EXPORT_PAGE_SIZE) return;
      after = page[page.length - 1].id;
    }
  }

  private async exportTheRest(userId: number) {
    const [votes, follows, reports, memberships, suspensions, conduct] = await Promise.all([
      this.votes.find({ where: { userId }, select: { id: true, postId: true, createdAt: true }, order: { id: 'ASC' } }),
      this.follows.find({ where: { userId }, select: { id: true, threadId: true, spaceId: true, createdAt: true }, order: { id: 'ASC' } }),
      this.reports.find({ where: { reporterId: userId }, select: { id: true, postId: true, reason: true, details: true, status: true, decidedAt: true, createdAt: true }, order: { id: 'ASC' } }),
      this.members.find({ where: { userId }, select: { id: true, spaceId: true, status: true, role: true, requestedAt: true, decidedAt: true }, order: { id: 'ASC' } }),
      this.suspensions.find({ where: { userId }, select: { id: true, reason: true, startsAt: true, endsAt: true, liftedAt: true, createdAt: true }, order: { id: 'ASC' } }),
      this.conduct.findOne({ where: { userId }, select: { id: true, version: true, acceptedAt: true } }),
    ]);
    const postIds = [...new Set([...votes.map((v) => v.postId), ...reports.map((r) => r.postId)])];
    const posts = postIds.length ? await this.posts.find({ where: { id: In(postIds) }, select: { id: true, threadId: true } }) : [];
    const threadIds = [...new Set([...posts.map((p) => p.threadId), ...follows.map((f) => f.threadId).filter((id): id is number => id !== null)])];
    const threads = threadIds.length ? await this.threads.find({ where: { id: In(threadIds) }, select: { id: true, title: true, spaceId: true } }) : [];
    const spaceIds = [...new Set([...threads.map((t) => t.spaceId), ...follows.map((f) => f.spaceId).filter((id): id is number => id !== null), ...memberships.map((m) => m.spaceId)])];
    const spaces = spaceIds.length ? await this.spaces.find({ where: { id: In(spaceIds) }, select: { id: true, kind: true, title: true } }) : [];
    const threadOf = (id: number | null | undefined) => {
      const thread = threads.find((t) => t.id === id);
      return thread ? { id: thread.id, title: thread.title } : null;
    };
    const threadOfPost = (postId: number) => threadOf(posts.find((p) => p.id === postId)?.threadId);
    const space = (id: number | null) => spaceOf(spaces.find((s) => s.id === id));
    return {
      helpfulVotes: votes.map((v) => ({ postId: v.postId, thread: threadOfPost(v.postId), markedAt: v.createdAt })),
      following: follows.map((f) => (f.threadId !== null ? { thread: threadOf(f.threadId), since: f.createdAt } : { space: space(f.spaceId), since: f.createdAt })),
      reportsMade: reports.map((r) => ({ postId: r.postId, thread: threadOfPost(r.postId), reason: r.reason, details: r.details, status: r.status, decidedAt: r.decidedAt, reportedAt: r.createdAt })),
      memberships: memberships.map((m) => ({ space: space(m.spaceId), status: m.status, role: m.role, requestedAt: m.requestedAt, decidedAt: m.decidedAt })),
      suspensions: suspensions.map((s) => ({ reason: s.reason, startsAt: s.startsAt, endsAt: s.endsAt, liftedAt: s.liftedAt })),
      codeOfConduct: conduct ? { version: conduct.version, acceptedAt: conduct.acceptedAt } : null,
    };
  }
}
