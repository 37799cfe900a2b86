import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { isUniqueViolation } from '../../database/errors';
import { DiscussionFollow } from '../entities';

export type FollowTarget = { threadId: number } | { spaceId: number };

/**
 * Who follows which thread or space. Starting or replying to a thread follows it; anyone who can read a thread or a
 * space may follow it and stop. Following twice is following once (the unique keys).
 */
@Injectable()
export class Follows {
  constructor(
    @InjectRepository(DiscussionFollow) private readonly follows: Repository<DiscussionFollow>,
    private readonly clock: Clock,
  ) {}

  /** Follows the target (through `tx` inside a transaction); already following is success. */
  async follow(userId: number, target: FollowTarget, tx?: EntityManager): Promise<void> {
    const repo = tx ? tx.getRepository(DiscussionFollow) : this.follows;
    const where = { userId, ...('threadId' in target ? { threadId: target.threadId } : { spaceId: target.spaceId }) };
    if (await repo.findOne({ where, select: { id: true } })) return;
    try {
      await repo.insert({ userId, threadId: 'threadId' in target ? target.threadId : null, spaceId: 'spaceId' in target ? target.spaceId : null, createdAt: this.clock.now() });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }

  async unfollow(userId: number, target: FollowTarget): Promise<void> {
    await this.follows.delete({ userId, ...('threadId' in target ? { threadId: target.threadId } : { spaceId: target.spaceId }) });
  }

  async isFollowing(userId: number, target: FollowTarget): Promise<boolean> {
    return this.follows.exists({ where: { userId, ...('threadId' in target ? { threadId: target.threadId } : { spaceId: target.spaceId }) } });
  }

  /** The followers of a thread or a space, in id order, a page at a time (after the last id of the page before). */
  async followers(target: FollowTarget, afterUserId: number, limit: number): Promise<number[]> {
    const qb = this.follows.createQueryBuilder('f').select('f.userId', 'userId').where('f.userId > :after', { after: afterUserId }).orderBy('f.userId', 'ASC').limit(limit);
    if ('threadId' in target) qb.andWhere('f.threadId = :id', { id: target.threadId });
    else qb.andWhere('f.spaceId = :id', { id: target.spaceId });
    return (await qb.getRawMany<{ userId: number | string }>()).map((r) => Number(r.userId));
  }
}
