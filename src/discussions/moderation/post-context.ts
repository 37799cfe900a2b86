import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Role } from '../../accounts/roles';
import { Forbidden, NotFound } from '../../common/errors';
import { DiscussionAccess, type SpaceAccessView, type Viewer } from '../core/discussion-access';
import { DiscussionPost, DiscussionSpace, DiscussionSpaceMember, DiscussionThread } from '../entities';

/** One message for a post that does not exist and for one the viewer may not see or moderate: it tells nothing. */
export const NO_SUCH_POST = 'There is no such post, or you cannot see it';
export const NOT_A_MODERATOR = 'Only moderators can open the discussions moderation queue';

export const isSiteModerator = (role: Role) => role === 'admin' || role === 'moderator';

export interface PostContext {
  post: DiscussionPost;
  thread: DiscussionThread;
  space: DiscussionSpace;
  access: SpaceAccessView;
}

/** Which posts a moderator works on: every one (site moderators and administrators), or those of these communities. */
export type ModerationScope = { all: true } | { all: false; spaceIds: number[] };

/**
 * A post with its thread and space, and who may moderate what: the one place the reporting and moderation pages
 * find a post by id, so both answer the same 404 for a post that does not exist and for one the viewer may not see.
 */
@Injectable()
export class PostContexts {
  constructor(
    private readonly access: DiscussionAccess,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionSpace) private readonly spaces: Repository<DiscussionSpace>,
    @InjectRepository(DiscussionSpaceMember) private readonly members: Repository<DiscussionSpaceMember>,
  ) {}

  /** The post, its thread and space, and the viewer's access to the space; 404 when there is no such post. */
  async load(viewer: Viewer, postId: number): Promise<PostContext> {
    const post = Number.isSafeInteger(postId) && postId > 0 ? await this.posts.findOneBy({ id: postId }) : null;
    if (!post) throw new NotFound(NO_SUCH_POST);
    const thread = await this.threads.findOneByOrFail({ id: post.threadId });
    const space = await this.spaces.findOneByOrFail({ id: thread.spaceId });
    return { post, thread, space, access: await this.access.of(viewer, space) };
  }

  /**
   * A post the viewer may read as any reader does: its space readable, the post and its thread visible (a held or
   * hidden post is nobody's to report but a moderator's to handle). 404 otherwise.
   */
  async readable(viewer: Viewer, postId: number): Promise<PostContext> {
    const context = await this.load(viewer, postId);
    if (!context.access.canRead || context.post.status !== 'visible' || context.thread.status !== 'visible') throw new NotFound(NO_SUCH_POST);
    return context;
  }

  /** A post the viewer moderates. 403 first for someone who moderates nothing at all; 404 for a post outside their communities. */
  async moderated(viewer: Viewer, postId: number): Promise<PostContext> {
    await this.requireModerator(viewer);
    const context = await this.load(viewer, postId);
    if (!context.access.canModerate) throw new NotFound(NO_SUCH_POST);
    return context;
  }

  /** Every post for site moderators; a community moderator's communities otherwise (empty for someone who moderates none). */
  async scopeOf(viewer: Viewer): Promise<ModerationScope> {
    if (isSiteModerator(viewer.role)) return { all: true };
    const rows = await this.members.find({ where: { userId: viewer.id, role: 'moderator', status: 'member' }, select: { spaceId: true } });
    return { all: false, spaceIds: rows.map((r) => r.spaceId) };
  }

  /** The scope of someone who moderates something; 403, before anything is looked up, for anyone else. */
  async requireModerator(viewer: Viewer): Promise<ModerationScope> {
    const scope = await this.scopeOf(viewer);
    if (!scope.all && !scope.spaceIds.length) throw new Forbidden(NOT_A_MODERATOR);
    return scope;
  }
}
