import { EntityManager } from 'typeorm';
import { DiscussionPost, DiscussionSpace, DiscussionThread } from '../entities';

/**
 * Brings a thread's reply count and last activity, and its space's thread count, in step with what is visible, inside
 * the transaction that changed a post's or thread's status (a reply, a deletion, a hide, a restore, an approval).
 * Counted, not incremented, so a change run twice leaves the same figures.
 */
export async function recountThread(tx: EntityManager, threadId: number): Promise<void> {
  const thread = await tx.getRepository(DiscussionThread).findOne({ where: { id: threadId }, select: { id: true, spaceId: true, createdAt: true } });
  if (!thread) return;
  const where = { threadId, status: 'visible' as const, isOpening: false };
  const posts = tx.getRepository(DiscussionPost);
  const [replyCount, latest] = await Promise.all([posts.count({ where }), posts.findOne({ where, select: { id: true, createdAt: true }, order: { createdAt: 'DESC', id: 'DESC' } })]);
  const lastActivityAt = latest?.createdAt ?? thread.createdAt;
  await tx.getRepository(DiscussionThread).update({ id: threadId }, { replyCount, lastActivityAt });
  await recountSpace(tx, thread.spaceId);
}

export async function recountSpace(tx: EntityManager, spaceId: number): Promise<void> {
  const threadCount = await tx.getRepository(DiscussionThread).count({ where: { spaceId, status: 'visible' } });
  await tx.getRepository(DiscussionSpace).update({ id: spaceId }, { threadCount });
}
