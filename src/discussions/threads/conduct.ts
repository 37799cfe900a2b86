import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { Forbidden } from '../../common/errors';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { PostingStanding } from '../core/posting-standing';
import { ConductAcceptance } from '../entities';

/**
 * The version of the code of conduct people accept (views/discussions/threads/conduct.hbs holds its text). Raise it
 * when the text changes in substance: everyone then accepts it again before their next post.
 */
export const CONDUCT_VERSION = 1;

/** Where a page sends someone who must accept the code of conduct first, and back again afterwards. */
export const conductHref = (returnTo?: string) => `/discussions/conduct${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`;

/** Posting before accepting the current code of conduct. Pages redirect to /discussions/conduct; the API answers 403 with this code. */
export class ConductNotAccepted extends Forbidden {
  constructor() {
    super('Read and accept the code of conduct before you post in discussions', 'conduct_not_accepted');
  }
}

/** Whether a person accepted the current code of conduct, and recording that they do. */
@Injectable()
export class Conduct {
  constructor(
    @InjectRepository(ConductAcceptance) private readonly acceptances: Repository<ConductAcceptance>,
    private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly standing: PostingStanding,
  ) {}

  /** Whether the person accepted the current version (kept with their posting standing: every thread page asks). */
  async hasAccepted(userId: number): Promise<boolean> {
    return isCurrent({ version: (await this.standing.of(userId)).conductVersion });
  }

  /** Records that the person accepts the current version (accepting again is success; an older acceptance is brought up to date). */
  async accept(userId: number): Promise<void> {
    const now = this.clock.now();
    const existing = await this.acceptances.findOne({ where: { userId }, select: { id: true, version: true } });
    if (isCurrent(existing)) return;
    if (existing) {
      await this.acceptances.update({ id: existing.id }, { version: CONDUCT_VERSION, acceptedAt: now });
    } else {
      try {
        await this.acceptances.insert({ userId, version: CONDUCT_VERSION, acceptedAt: now });
      } catch (err) {
        // Two tabs accepting at once: the other one wrote it.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    await this.standing.forget(userId);
  }

  /**
   * Inside a posting transaction: locks the person's acceptance row (so one person's posts are written one at a time,
   * and the rate limit counts what the one before wrote), refusing with ConductNotAccepted when there is none current.
   */
  async lockAcceptance(tx: EntityManager, userId: number): Promise<void> {
    if (!isCurrent(await this.uow.lockForUpdate(tx, ConductAcceptance, { userId }))) throw new ConductNotAccepted();
  }
}

const isCurrent = (row: { version: number | null } | null) => row !== null && row.version !== null && row.version >= CONDUCT_VERSION;
