import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { londonDate, londonFields } from '../common/london-time';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { JobsService } from '../jobs/jobs.service';
import { NotificationsService } from '../notifications/notifications.service';
import { MailService } from '../mail/mail.service';
import { isoWeekday, isoWeekOf, noticeStage, type NoticeStage } from './compliance-rules';
import { ComplianceService, type LiveRequirement, type RequirementCounts } from './compliance.service';
import { RequirementDigest } from './entities/requirement-digest.entity';
import { RequirementNotice } from './entities/requirement-notice.entity';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'organisations.requirements.notices': Record<string, never>;
    'organisations.requirements.digest': Record<string, never>;
  }
}

/** The digest goes from this London time on Mondays. */
export const DIGEST_FROM = '07:00';
/** Overdue people named in a digest, per organisation (the rest are counted). */
export const DIGEST_OVERDUE_LIMIT = 50;
const RAG_WORDS = { green: 'Green', amber: 'Amber', red: 'Red' } as const;

type Raw = Record<string, unknown>;

interface NoticeCandidate {
  requirement: LiveRequirement;
  userId: number;
  name: string;
  email: string;
  stage: NoticeStage;
  dueOn: string;
  /** They held a certificate that has run out (or, with stillValid, is about to). */
  renewal: boolean;
  stillValid: boolean;
  expiresOn: string | null;
}

/** A London day "YYYY-MM-DD" as people read it: "31 March 2027". */
const dayWords = (day: string) => londonDate(new Date(`${day}T12:00:00Z`));

/**
 * The e-mails of required learning. Notices: each person in a requirement's audience hears once when it is due
 * within 14 days (`due_soon`) and once when it is overdue, per due date; the notice row and its outbox message are
 * written in one transaction, and the unique index on (requirement, person, stage, due date) lets only one of two
 * workers write them. The weekly digest: one e-mail per manager per ISO week, on Monday mornings (Europe/London),
 * guarded the same way by its row's unique (manager, week).
 */
@Injectable()
export class RequirementMailer {
  private readonly logger = new Logger('RequiredLearning');

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly compliance: ComplianceService,
    private readonly mail: MailService,
    private readonly jobs: JobsService,
    private readonly notifications: NotificationsService,
    @InjectRepository(RequirementNotice) private readonly notices: Repository<RequirementNotice>,
    @InjectRepository(RequirementDigest) private readonly digests: Repository<RequirementDigest>,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Active organisations with a live requirement, by id. */
  private async organisationsWithRequirements(): Promise<Array<{ id: number; name: string }>> {
    const rows = await this.db
      .createQueryBuilder()
      .from('organisation_requirements', 'r')
      .innerJoin('organisations', 'o', "o.id = r.organisation_id AND o.status = 'active'")
      .select(['o.id AS id', 'o.name AS name'])
      .where('r.archived_at IS NULL')
      .groupBy('o.id')
      .addGroupBy('o.name')
      .orderBy('o.id')
      .getRawMany<Raw>();
    return rows.map((r) => ({ id: Number(r.id), name: String(r.name) }));
  }

  /** Sends every notice that is due and not yet sent; returns how many this run sent. Safe to run anywhere, any number of times. */
  async sendNotices(): Promise<number> {
    let sent = 0;
    for (const organisation of await this.organisationsWithRequirements()) {
      const requirements = await this.compliance.liveRequirements(organisation.id);
      const byId = new Map(requirements.map((r) => [r.id, r]));
      for await (const page of this.compliance.memberPages(organisation.id, requirements)) {
        const candidates: NoticeCandidate[] = [];
        for (const person of page) {
          if (person.member.deactivated) continue;
          for (const standing of person.requirements) {
            const stage = noticeStage(standing);
            if (stage && standing.dueOn) {
              candidates.push({ requirement: byId.get(standing.requirementId)!, userId: person.member.userId, name: person.member.name, email: person.member.email, stage, dueOn: standing.dueOn, renewal: standing.renewing, stillValid: standing.status === 'complete', expiresOn: standing.expiresOn });
            }
          }
        }
        if (!candidates.length) continue;
        const sentBefore = await this.notices.find({
          where: { requirementId: In([...new Set(candidates.map((c) => c.requirement.id))]), userId: In([...new Set(candidates.map((c) => c.userId))]) },
          select: { requirementId: true, userId: true, stage: true, dueDate: true },
        });
        const done = new Set(sentBefore.map((n) => `${n.requirementId}:${n.userId}:${n.stage}:${n.dueDate}`));
        for (const candidate of candidates) {
          if (done.has(`${candidate.requirement.id}:${candidate.userId}:${candidate.stage}:${candidate.dueOn}`)) continue;
          if (await this.sendNotice(organisation.name, candidate)) sent++;
        }
      }
    }
    if (sent) this.logger.log(`Required learning: ${sent} notice(s) sent`);
    return sent;
  }

  /** The notice row and its e-mail in one transaction; false when another worker got there first. */
  private async sendNotice(organisationName: string, c: NoticeCandidate): Promise<boolean> {
    let messageId: number | null = null;
    try {
      await this.uow.run(async (tx) => {
        const result = await tx.getRepository(RequirementNotice).insert({ requirementId: c.requirement.id, userId: c.userId, stage: c.stage, dueDate: c.dueOn, createdAt: this.clock.now() });
        const noticeId = Number(result.identifiers[0].id);
        const message = await this.mail.record(
          {
            to: c.email,
            template: c.stage === 'due_soon' ? 'requirement-due-soon' : 'requirement-overdue',
            dedupeKey: `requirement-notice:${noticeId}`,
            data: {
              name: c.name,
              organisationName,
              courseTitle: c.requirement.courseTitle,
              dueOn: dayWords(c.dueOn),
              renewal: c.renewal,
              stillValid: c.stillValid,
              expiresOn: c.expiresOn ? dayWords(c.expiresOn) : null,
              courseUrl: `${this.config.publicUrl}/courses/${c.requirement.courseSlug}`,
              organisationsUrl: `${this.config.publicUrl}/account/organisations`,
            },
          },
          { tx },
        );
        messageId = message?.id ?? null;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
    if (messageId !== null) await this.jobs.tryEnqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}` });
    return true;
  }

  /**
   * On Mondays from 07:00 (Europe/London), each manager of an organisation with live requirements gets this week's
   * digest, once: compliance per requirement and the overdue people, for each organisation they manage. Any other
   * time it does nothing. Returns how many digests this run sent.
   */
  async sendDigests(): Promise<number> {
    const now = this.clock.now();
    const { date, time } = londonFields(now);
    if (isoWeekday(date) !== 1 || time < DIGEST_FROM) return 0;
    const week = isoWeekOf(date);
    const organisations = await this.organisationsWithRequirements();
    if (!organisations.length) return 0;
    const managers = await this.db
      .createQueryBuilder()
      .from('organisation_memberships', 'm')
      .innerJoin('users', 'u', 'u.id = m.user_id AND u.deactivated_at IS NULL')
      .select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'm.organisation_id AS organisationId'])
      .where("m.organisation_id IN (:...ids) AND m.status = 'active' AND m.is_manager = :yes", { ids: organisations.map((o) => o.id), yes: true })
      .orderBy('u.id')
      .getRawMany<Raw>();
    const byManager = new Map<number, { name: string; email: string; organisationIds: number[] }>();
    for (const m of managers) {
      const entry = byManager.get(Number(m.userId)) ?? { name: String(m.name), email: String(m.email), organisationIds: [] };
      entry.organisationIds.push(Number(m.organisationId));
      byManager.set(Number(m.userId), entry);
    }
    const names = new Map(organisations.map((o) => [o.id, o.name]));
    const summaries = new Map<number, Awaited<ReturnType<ComplianceService['digest']>>>();
    const summaryOf = async (organisationId: number) => {
      if (!summaries.has(organisationId)) summaries.set(organisationId, await this.compliance.digest(organisationId, DIGEST_OVERDUE_LIMIT));
      return summaries.get(organisationId)!;
    };
    const managerIds = [...byManager.keys()];
    let sent = 0;
    for (let at = 0; at < managerIds.length; at += 500) {
      const batch = managerIds.slice(at, at + 500);
      const already = new Set((await this.digests.find({ where: { isoWeek: week, managerId: In(batch) }, select: { managerId: true } })).map((d) => d.managerId));
      const optedOut = await this.notifications.managerDigestOptOuts(batch);
      for (const managerId of batch) {
        if (already.has(managerId) || optedOut.has(managerId)) continue;
        const manager = byManager.get(managerId)!;
        const sections = [];
        for (const organisationId of manager.organisationIds.sort((a, b) => names.get(a)!.localeCompare(names.get(b)!))) {
          const summary = await summaryOf(organisationId);
          sections.push({
            name: names.get(organisationId),
            url: `${this.config.publicUrl}/organisation/${organisationId}/requirements`,
            requirements: summary.items.map(({ requirement, counts }) => digestLine(requirement, counts)),
            overdue: summary.overdue.map((o) => ({ ...o, dueOn: dayWords(o.dueOn) })),
            moreOverdue: summary.overdueTotal - summary.overdue.length,
          });
        }
        if (await this.sendDigest(managerId, manager, week, dayWords(date), sections)) sent++;
      }
    }
    if (sent) this.logger.log(`Required learning digest ${week}: ${sent} sent`);
    return sent;
  }

  private async sendDigest(managerId: number, manager: { name: string; email: string }, week: string, today: string, organisations: unknown[]): Promise<boolean> {
    let messageId: number | null = null;
    try {
      await this.uow.run(async (tx) => {
        await tx.getRepository(RequirementDigest).insert({ managerId, isoWeek: week, createdAt: this.clock.now() });
        const unsubscribe = this.notifications.unsubscribeFor(managerId, 'manager-digest');
        const message = await this.mail.record(
          {
            to: manager.email,
            template: 'manager-digest',
            dedupeKey: `manager-digest:${managerId}:${week}`,
            headers: unsubscribe.headers,
            data: { name: manager.name, week, today, organisations, unsubscribeUrl: unsubscribe.url, preferencesUrl: unsubscribe.preferencesUrl },
          },
          { tx },
        );
        messageId = message?.id ?? null;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
    if (messageId !== null) await this.jobs.tryEnqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}` });
    return true;
  }
}

function digestLine(requirement: LiveRequirement, counts: RequirementCounts) {
  return { courseTitle: requirement.courseTitle, percent: counts.percent, complete: counts.complete, audience: counts.audience, overdue: counts.overdue, status: RAG_WORDS[counts.rag] };
}

/** Every hour at most (and every SWEEP_INTERVAL_SECONDS when that is shorter): the notices that are due. */
@Injectable()
@JobHandler('organisations.requirements.notices', { everyMs: 60 * 60_000, sweep: true })
export class RequirementNoticesJob implements Handler<'organisations.requirements.notices'> {
  constructor(private readonly mailer: RequirementMailer) {}

  async handle(): Promise<void> {
    await this.mailer.sendNotices();
  }
}

/** Every 15 minutes: on Monday mornings, the managers' weekly digests not yet sent this week. */
@Injectable()
@JobHandler('organisations.requirements.digest', { everyMs: 15 * 60_000 })
export class RequirementDigestJob implements Handler<'organisations.requirements.digest'> {
  constructor(private readonly mailer: RequirementMailer) {}

  async handle(): Promise<void> {
    await this.mailer.sendDigests();
  }
}
