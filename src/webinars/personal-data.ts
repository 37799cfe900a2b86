import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PersonalDataRegistry } from '../common/personal-data';
import { Webinar, WebinarAttendance, WebinarQuestion, WebinarQuestionVote, WebinarRegistration } from './entities';
import { LiveEvents } from '../live/live-events';
import { questionsChannel } from './questions.service';
import { webinarPhase } from './webinar-phase';
import { WebinarsService } from './webinars.service';

type WebinarRef = Pick<Webinar, 'id' | 'title' | 'slug' | 'startsAt'>;
const webinarOf = (row: { webinar?: unknown }) => {
  const w = row.webinar as WebinarRef;
  return { id: w.id, title: w.title, slug: w.slug, startsAt: w.startsAt };
};
const intervals = (json: string | null): Array<[number, number]> => (json ? (JSON.parse(json) as Array<[number, number]>) : []);

/**
 * The webinars module's personal data: registrations, attendance (live and through the recording), the questions the
 * person asked and the votes they gave. Erasing deletes them. A place they held at a webinar still to come goes to the
 * waitlist, as when someone cancels. Their questions go (with the votes others gave them: there is nothing left to
 * vote for); their votes for other people's questions go, and those questions' counts drop by one each.
 */
@Injectable()
export class WebinarsPersonalData implements OnModuleInit {
  private readonly logger = new Logger('Webinars');

  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly clock: Clock,
    private readonly webinars: WebinarsService,
    private readonly live: LiveEvents,
    @InjectRepository(WebinarRegistration) private readonly registrations: Repository<WebinarRegistration>,
    @InjectRepository(WebinarAttendance) private readonly attendance: Repository<WebinarAttendance>,
    @InjectRepository(WebinarQuestion) private readonly questions: Repository<WebinarQuestion>,
    @InjectRepository(WebinarQuestionVote) private readonly votes: Repository<WebinarQuestionVote>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'webinarRegistrations',
        description: 'The webinars you registered for: your place or place on the waitlist, and when you registered or cancelled',
        export: async (userId) => {
          const rows = await this.registrations
            .createQueryBuilder('r')
            .innerJoin('r.webinar', 'w')
            .select(['r.id', 'r.status', 'r.queuedAt', 'r.promotedAt', 'r.cancelledAt', 'w.id', 'w.title', 'w.slug', 'w.startsAt'])
            .where('r.userId = :userId', { userId })
            .orderBy('r.id')
            .getMany();
          return rows.map((r) => ({ webinar: webinarOf(r), status: r.status, registeredAt: r.queuedAt, promotedAt: r.promotedAt, cancelledAt: r.cancelledAt }));
        },
        erase: async (tx, userId) => {
          const rows = await tx
            .getRepository(WebinarRegistration)
            .createQueryBuilder('r')
            .innerJoin('r.webinar', 'w')
            .select(['r.id', 'r.status', 'w.id', 'w.status', 'w.startsAt', 'w.durationMinutes'])
            .where('r.userId = :userId', { userId })
            .getMany();
          const now = this.clock.now();
          // A place at a webinar still to come (or on now) is freed for the waitlist once the deletion has committed.
          const freed = rows.filter((r) => r.status === 'registered' && ['scheduled', 'live'].includes(webinarPhase(r.webinar as Webinar, now))).map((r) => (r.webinar as Webinar).id);
          if (rows.length) await tx.getRepository(WebinarRegistration).delete({ id: In(rows.map((r) => r.id)) });
          return {
            counts: { webinarRegistrations: rows.length },
            afterCommit: async () => {
              for (const webinarId of freed) {
                await this.webinars.fillFreedPlaces(webinarId).catch((err: unknown) => this.logger.warn(`Waitlist of webinar ${webinarId} not moved up after an account deletion: ${err instanceof Error ? err.message : err}`));
              }
            },
          };
        },
      },
      {
        name: 'webinarAttendance',
        description: 'Your attendance: when you joined each webinar live, how much of the recording you watched, and when it counted toward a certificate',
        export: async (userId) => {
          const rows = await this.attendance
            .createQueryBuilder('a')
            .innerJoin('a.webinar', 'w')
            .select(['a.id', 'a.firstJoinedAt', 'a.lastJoinedAt', 'a.joinCount', 'a.positionSeconds', 'a.coveredSeconds', 'a.watchedIntervals', 'a.creditedAt', 'a.updatedAt'])
            .addSelect(['w.id', 'w.title', 'w.slug', 'w.startsAt'])
            .where('a.userId = :userId', { userId })
            .orderBy('a.id')
            .getMany();
          return rows.map((a) => ({
            webinar: webinarOf(a),
            firstJoinedAt: a.firstJoinedAt,
            lastJoinedAt: a.lastJoinedAt,
            joinCount: a.joinCount,
            recording: { positionSeconds: a.positionSeconds, watchedSeconds: a.coveredSeconds, watchedIntervals: intervals(a.watchedIntervals) },
            creditedAt: a.creditedAt,
            updatedAt: a.updatedAt,
          }));
        },
        erase: async (tx, userId) => ({ counts: { webinarAttendance: (await tx.getRepository(WebinarAttendance).delete({ userId })).affected ?? 0 } }),
      },
      {
        name: 'webinarQuestions',
        description: 'The questions you asked at webinars (with their votes and whether they were answered) and the questions you voted for',
        export: async (userId) => {
          const asked = await this.questions
            .createQueryBuilder('q')
            .innerJoin('q.webinar', 'w')
            .select(['q.id', 'q.body', 'q.votes', 'q.status', 'q.createdAt', 'q.answeredAt', 'w.id', 'w.title', 'w.slug', 'w.startsAt'])
            .where('q.userId = :userId', { userId })
            .orderBy('q.id')
            .getMany();
          // Votes name the question, not what someone else wrote in it.
          const voted = await this.votes
            .createQueryBuilder('v')
            .innerJoin('v.question', 'q')
            .innerJoin('q.webinar', 'w')
            .select(['v.questionId', 'v.userId', 'v.createdAt', 'q.id', 'w.id', 'w.title', 'w.slug', 'w.startsAt'])
            .where('v.userId = :userId', { userId })
            .orderBy('v.createdAt')
            .getMany();
          return {
            asked: asked.map((q) => ({ id: q.id, webinar: webinarOf(q), question: q.body, votes: q.votes, status: q.status, askedAt: q.createdAt, answeredAt: q.answeredAt })),
            votes: voted.map((v) => ({ questionId: v.questionId, webinar: webinarOf(v.question as { webinar?: unknown }), votedAt: v.createdAt })),
          };
        },
        erase: async (tx, userId) => {
          const questions = tx.getRepository(WebinarQuestion);
          const own = await questions.find({ where: { userId }, select: { id: true, webinarId: true } });
          const ownIds = new Set(own.map((q) => q.id));
          const voted = await tx
            .getRepository(WebinarQuestionVote)
            .createQueryBuilder('v')
            .innerJoin('v.question', 'q')
            .select(['v.questionId', 'v.userId', 'q.id', 'q.webinarId'])
            .where('v.userId = :userId', { userId })
            .getMany();
          const othersVotedFor = voted.filter((v) => !ownIds.has(v.questionId)).map((v) => v.questionId);
          if (othersVotedFor.length) await questions.decrement({ id: In(othersVotedFor) }, 'votes', 1);
          const votes = (await tx.getRepository(WebinarQuestionVote).delete({ userId })).affected ?? 0;
          if (own.length) await questions.delete({ id: In([...ownIds]) });
          const changed = new Set([...own.map((q) => q.webinarId), ...voted.map((v) => (v.question as WebinarQuestion).webinarId)]);
          return {
            counts: { webinarQuestions: own.length, webinarQuestionVotes: votes },
            // Anyone following a webinar's live questions sees the list without them.
            afterCommit: async () => {
              for (const webinarId of changed) await this.live.publish(questionsChannel(webinarId), 'changed').catch(() => undefined);
            },
          };
        },
      },
    );
  }
}
