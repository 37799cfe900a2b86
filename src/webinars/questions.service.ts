import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import type { CurrentUser } from '../accounts/identity';
import { Clock } from '../common/clock';
import { Conflict, Forbidden, NotFound } from '../common/errors';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { Webinar, WebinarQuestion, WebinarQuestionVote, WebinarRegistration, type QuestionStatus } from './entities';
import { LiveEvents } from '../live/live-events';
import { joinWindowOpen } from './webinar-phase';
import { canManage } from './webinars.service';
import type { Moderation } from './webinars.dto';

/** A question as every viewer may see it: plain text (escaped by whoever shows it), no e-mail address. */
export interface QuestionView {
  id: number;
  body: string;
  votes: number;
  status: QuestionStatus;
  askedBy: string;
  askedAt: string;
}

/** The channel on which a webinar's question list changes are announced to every web instance. */
export const questionsChannel = (webinarId: number) => `webinar:${webinarId}:questions`;

/**
 * Live Q&A: registrants ask and upvote (one vote each) while the join window is open; the webinar's
 * author and admins mark questions answered or hide them. Every change is announced on LiveEvents so
 * each web instance refreshes its connected viewers.
 */
@Injectable()
export class QuestionsService {
  private readonly logger = new Logger('WebinarQuestions');

  constructor(
    @InjectRepository(WebinarQuestion) private readonly questions: Repository<WebinarQuestion>,
    @InjectRepository(WebinarRegistration) private readonly registrations: Repository<WebinarRegistration>,
    private readonly accounts: AccountsService,
    private readonly uow: UnitOfWork,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  /** Open and answered questions, most votes first (hidden ones too for moderators). */
  async list(webinarId: number, options: { includeHidden?: boolean } = {}): Promise<QuestionView[]> {
    const rows = await this.questions.find({ where: { webinarId }, order: { votes: 'DESC', id: 'ASC' } });
    const visible = rows.filter((q) => options.includeHidden || q.status !== 'hidden');
    const people = await this.accounts.contactsOf([...new Set(visible.map((q) => q.userId))]);
    const rank: Record<QuestionStatus, number> = { open: 0, answered: 1, hidden: 2 };
    return visible
      .sort((a, b) => rank[a.status] - rank[b.status])
      .map((q) => ({ id: q.id, body: q.body, votes: q.votes, status: q.status, askedBy: people.get(q.userId)?.name ?? 'A learner', askedAt: q.createdAt.toISOString() }));
  }

  async ask(user: CurrentUser, webinar: Webinar, body: string): Promise<QuestionView> {
    await this.requireParticipant(user, webinar);
    const text = cleanText(body);
    if (!text) throw new Conflict('Type your question');
    const saved = await this.questions.save(this.questions.create({ webinarId: webinar.id, userId: user.id, body: text, votes: 0, status: 'open', createdAt: this.clock.now(), answeredAt: null }));
    await this.announce(webinar.id);
    return { id: saved.id, body: saved.body, votes: 0, status: 'open', askedBy: user.name, askedAt: saved.createdAt.toISOString() };
  }

  /** One vote per learner and question: the vote's primary key refuses a second, and the count moves with it. */
  async vote(user: CurrentUser, webinar: Webinar, questionId: number): Promise<{ votes: number }> {
    await this.requireParticipant(user, webinar);
    const question = await this.questions.findOneBy({ id: questionId, webinarId: webinar.id });
    if (!question || question.status === 'hidden') throw new NotFound('There is no such question in this webinar');
    if (question.userId === user.id) throw new Conflict('You cannot vote for your own question');
    const votes = await this.uow.run(async (tx) => {
      try {
        await tx.getRepository(WebinarQuestionVote).insert({ questionId, userId: user.id, createdAt: this.clock.now() });
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict('You have already voted for this question');
        throw err;
      }
      await tx.getRepository(WebinarQuestion).increment({ id: questionId }, 'votes', 1);
      return (await tx.getRepository(WebinarQuestion).findOneByOrFail({ id: questionId })).votes;
    });
    await this.announce(webinar.id);
    return { votes };
  }

  async moderate(user: CurrentUser, webinar: Webinar, questionId: number, status: Moderation): Promise<void> {
    if (!canManage(webinar, user)) throw new Forbidden('Only the webinar’s author and admins can moderate its questions');
    const result = await this.questions.update({ id: questionId, webinarId: webinar.id }, { status, answeredAt: status === 'answered' ? this.clock.now() : null });
    if (!result.affected) throw new NotFound('There is no such question in this webinar');
    await this.announce(webinar.id);
  }

  /** Ids of the questions a learner has voted for, so the page can show their votes. */
  async votedBy(userId: number, webinarId: number): Promise<Set<number>> {
    const rows = await this.questions
      .createQueryBuilder('q')
      .innerJoin(WebinarQuestionVote, 'v', 'v.question_id = q.id AND v.user_id = :userId', { userId })
      .where('q.webinar_id = :webinarId', { webinarId })
      .select('q.id', 'id')
      .getRawMany<{ id: number }>();
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** May this user follow the live questions? Registrants in the window; the author and admins always. */
  async canFollow(user: CurrentUser, webinar: Webinar): Promise<boolean> {
    if (canManage(webinar, user)) return true;
    const registration = await this.registrations.findOneBy({ webinarId: webinar.id, userId: user.id });
    return registration?.status === 'registered';
  }

  private async requireParticipant(user: CurrentUser, webinar: Webinar): Promise<void> {
    const registration = await this.registrations.findOneBy({ webinarId: webinar.id, userId: user.id });
    if (registration?.status !== 'registered' && !canManage(webinar, user)) throw new Forbidden('Only learners with a place at this webinar can ask and vote');
    if (!joinWindowOpen(webinar, this.clock.now())) throw new Conflict('Questions open 15 minutes before the start and close when the webinar ends');
  }

  /** Tells every web instance the list changed; a Redis outage loses the live update, not the question. */
  private async announce(webinarId: number): Promise<void> {
    try {
      await this.live.publish(questionsChannel(webinarId), 'changed');
    } catch (err) {
      this.logger.warn(`Live update for webinar ${webinarId} not sent: ${(err as Error).message}`);
    }
  }
}

/** Plain text only: control characters dropped, runs of blank lines shortened. Markup stays text and is escaped when shown. */
const cleanText = (text: string) =>
  text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
