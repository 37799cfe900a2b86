import { randomBytes } from 'node:crypto';
import { AccountsService } from '../../src/accounts/accounts.service';
import { DataSource } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import { renderMarkdown } from '../../src/common/markdown';
import { PostingStanding } from '../../src/discussions/core/posting-standing';
import { ConductAcceptance, DiscussionPost, DiscussionSpace, DiscussionSpaceMember, DiscussionThread, type SpaceAccess, type ThreadKind } from '../../src/discussions/entities';
import type { TestApp } from './app';

/**
 * Discussion rows written straight to the database (no notifications, no live messages, no posting rules), for tests
 * of one part that need the others' data in a given state. Tests of posting itself go through the pages and the API.
 */
const repo = <T extends object>(t: TestApp, entity: new () => T) => t.app.get(DataSource).getRepository<T>(entity);

export async function saveCommunity(t: TestApp, fields: { title?: string; access?: SpaceAccess; description?: string; createdById?: number | null } = {}): Promise<DiscussionSpace> {
  const title = fields.title ?? 'Clinical safety officers';
  const now = new Date();
  return repo(t, DiscussionSpace).save({
    kind: 'community',
    subjectId: null,
    parentId: null,
    slug: `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 80)}-${randomBytes(3).toString('hex')}`,
    title,
    description: fields.description ?? `Where ${title.toLowerCase()} share what works.`,
    access: fields.access ?? 'open',
    threadCount: 0,
    createdById: fields.createdById ?? null,
    createdAt: now,
    updatedAt: now,
  });
}

export async function saveMember(t: TestApp, spaceId: number, userId: number, fields: Partial<Pick<DiscussionSpaceMember, 'status' | 'role'>> = {}): Promise<DiscussionSpaceMember> {
  const now = new Date();
  return repo(t, DiscussionSpaceMember).save({ spaceId, userId, status: fields.status ?? 'member', role: fields.role ?? 'member', requestedAt: now, decidedAt: now, decidedById: null });
}

export async function acceptConduct(t: TestApp, userId: number): Promise<void> {
  await repo(t, ConductAcceptance).save({ userId, version: 1, acceptedAt: new Date() });
  // Written past Conduct.accept: the kept standing is forgotten as accept would.
  await t.app.get(PostingStanding).forget(userId);
}

export async function savePost(t: TestApp, fields: { threadId: number; authorId: number; body?: string; isOpening?: boolean; status?: DiscussionPost['status']; createdAt?: Date }): Promise<DiscussionPost> {
  const body = fields.body ?? 'Has anyone run a hazard workshop for a new EPR module?';
  const at = fields.createdAt ?? new Date();
  const post = await repo(t, DiscussionPost).save({
    threadId: fields.threadId,
    authorId: fields.authorId,
    isOpening: fields.isOpening ?? false,
    body,
    bodyHtml: renderMarkdown(body, { demoteHeadings: true }),
    searchText: body,
    quotedPostId: null,
    status: fields.status ?? 'visible',
    statusReason: null,
    helpfulCount: 0,
    editedAt: null,
    fannedOutAt: at,
    createdAt: at,
    updatedAt: at,
  });
  if (!post.isOpening && post.status === 'visible') {
    await repo(t, DiscussionThread).increment({ id: post.threadId }, 'replyCount', 1);
    await repo(t, DiscussionThread).update({ id: post.threadId }, { lastActivityAt: at });
  }
  return post;
}

/** A thread with its opening post (visible unless told otherwise), and the space's count kept in step. */
export async function saveThread(t: TestApp, fields: { spaceId: number; authorId: number; title?: string; body?: string; kind?: ThreadKind; status?: DiscussionThread['status']; createdAt?: Date }): Promise<{ thread: DiscussionThread; opening: DiscussionPost }> {
  const at = fields.createdAt ?? new Date();
  const status = fields.status ?? 'visible';
  const thread: DiscussionThread = await repo(t, DiscussionThread).save({
    spaceId: fields.spaceId,
    authorId: fields.authorId,
    kind: fields.kind ?? 'discussion',
    title: fields.title ?? 'Hazard workshops for EPR modules',
    status,
    pinned: false,
    locked: false,
    openingPostId: null as number | null,
    acceptedPostId: null,
    replyCount: 0,
    lastActivityAt: at,
    createdAt: at,
    updatedAt: at,
  });
  const opening = await savePost(t, { threadId: thread.id, authorId: fields.authorId, body: fields.body, isOpening: true, status, createdAt: at });
  await repo(t, DiscussionThread).update({ id: thread.id }, { openingPostId: opening.id });
  thread.openingPostId = opening.id;
  if (status === 'visible') await repo(t, DiscussionSpace).increment({ id: fields.spaceId }, 'threadCount', 1);
  return { thread, opening };
}

/**
 * Makes an account one whose posts are not held for review: its address verified, created two days ago, and the code
 * of conduct accepted. (New or unverified accounts' posts wait for a moderator.)
 */
export async function trustedPoster(t: TestApp, userId: number): Promise<void> {
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  await t.app.get(DataSource).getRepository(User).update({ id: userId }, { emailVerifiedAt: twoDaysAgo, createdAt: twoDaysAgo });
  await t.app.get(AccountsService).identitiesChanged([userId]);
  if (!(await repo(t, ConductAcceptance).exists({ where: { userId } }))) await acceptConduct(t, userId);
}
