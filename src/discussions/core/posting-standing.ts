import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { PerPersonCache, type PerPersonFacts } from '../../redis/per-person-cache';
import { ConductAcceptance, DiscussionSuspension } from '../entities';

/** A suspension from posting as the thread pages need it. */
export interface StandingSuspension {
  reason: string;
  startsAt: Date;
  endsAt: Date;
}

/** What every thread page asks of its reader before offering the reply form. */
export interface Standing {
  /** The version of the code of conduct they accepted, if any. */
  conductVersion: number | null;
  /** Their suspension in force now (the one ending last), if any. */
  activeSuspension: StandingSuspension | null;
}

interface StoredStanding {
  conductVersion: number | null;
  /** Not lifted and not yet ended (in force now or later), as ISO times: which one is in force is decided at each read. */
  suspensions: Array<{ reason: string; startsAt: string; endsAt: string }>;
}

const STANDING_FACTS: PerPersonFacts = { kind: 'discussion-standing', ttlSeconds: 600 };

/**
 * A person's standing for posting (code of conduct accepted, suspensions), kept per person in PerPersonCache: every
 * thread page shows the reply form or says why not, and reading two tables on each was a third of its queries. Kept
 * with the times of the suspensions, so one ending or starting needs no change; whoever accepts the code, suspends or
 * lifts calls `forget` after the change commits. Posting itself still reads both tables in its transaction.
 */
@Injectable()
export class PostingStanding {
  constructor(
    @InjectRepository(ConductAcceptance) private readonly acceptances: Repository<ConductAcceptance>,
    @InjectRepository(DiscussionSuspension) private readonly suspensions: Repository<DiscussionSuspension>,
    private readonly people: PerPersonCache,
    private readonly clock: Clock,
  ) {}

  async of(userId: number): Promise<Standing> {
    const stored = (await this.people.remember<StoredStanding>(STANDING_FACTS, userId, () => this.read(userId)))!;
    const now = this.clock.now().getTime();
    const inForce = stored.suspensions
      .map((s) => ({ reason: s.reason, startsAt: new Date(s.startsAt), endsAt: new Date(s.endsAt) }))
      .filter((s) => s.startsAt.getTime() <= now && now < s.endsAt.getTime())
      .sort((a, b) => b.endsAt.getTime() - a.endsAt.getTime());
    return { conductVersion: stored.conductVersion, activeSuspension: inForce[0] ?? null };
  }

  /** After a change to the person's acceptance or suspensions has committed: read afresh on every instance. */
  forget(userId: number): Promise<void> {
    return this.people.forget(STANDING_FACTS, [userId]);
  }

  private async read(userId: number): Promise<StoredStanding> {
    const [acceptance, suspensions] = await Promise.all([
      this.acceptances.findOne({ where: { userId }, select: { id: true, version: true } }),
      this.suspensions.find({ where: { userId, liftedAt: IsNull(), endsAt: MoreThan(this.clock.now()) }, select: { id: true, reason: true, startsAt: true, endsAt: true } }),
    ]);
    return { conductVersion: acceptance?.version ?? null, suspensions: suspensions.map((s) => ({ reason: s.reason, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() })) };
  }
}
