import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull, LessThan, Repository, SelectQueryBuilder } from 'typeorm';
import { AccountsService } from '../../accounts/accounts.service';
import { Clock } from '../../common/clock';
import { londonIsoDate, londonToUtc } from '../../common/london-time';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { isSqlite } from '../../database/sqlite-gate';
import { UnitOfWork } from '../../database/unit-of-work';
import { JobsService } from '../../jobs/jobs.service';
import type { MailMessage } from '../../mail/mail-message.entity';
import { MailService } from '../../mail/mail.service';
import { InAppNotification, type NotificationKind } from '../entities';
import { NotificationsService } from '../notifications.service';

declare module '../../jobs/job-registry' {
  interface JobRegistry {
    /** Sends the instant e-mails of these notifications (a batch of them; those claimed already are skipped). */
    'notifications.email': { ids: number[] };
    /** Enqueues again the instant e-mails still unsent a minute after their notification. */
    'notifications.email-sweep': Record<string, never>;
    /** Hourly: the daily digest of each person's 'daily' notifications, once a day at or after 07:00 London time. */
    'notifications.daily-digest': Record<string, never>;
  }
}

export const INSTANT_EMAIL_JOB = 'notifications.email';
/**
 * Notifications per e-mail job: enough that 10,000 followers make 200 jobs rather than 10,000, few enough that a job
 * holds its rows' locks briefly and its SMTP sends go out in parallel on the pooled connections.
 */
export const EMAIL_BATCH = 50;
/** An instant e-mail still unclaimed this long after its notification is assumed lost from the queue. */
const SWEEP_AFTER_MS = 60_000;
/** The daily digest goes at or after this London time. */
export const DIGEST_TIME = '07:00';
/** People per page of the digest run, and notifications listed in one digest (the rest: "and N more"). */
const DIGEST_PEOPLE_PAGE = 200;
const DIGEST_LISTED = 50;

/** The job batches of these notification ids (ascending), each with a deterministic id: handing them out again is a no-op in the queue. */
export function emailBatches(ids: readonly number[]): Array<{ ids: number[]; jobId: string }> {
  const batches: Array<{ ids: number[]; jobId: string }> = [];
  for (let at = 0; at < ids.length; at += EMAIL_BATCH) {
    const batch = ids.slice(at, at + EMAIL_BATCH);
    batches.push({ ids: batch, jobId: `${INSTANT_EMAIL_JOB}:${batch[0]}-${batch[batch.length - 1]}:${batch.length}` });
  }
  return batches;
}

/**
 * The digest now due: the latest London day whose 07:00 has passed, and that moment. A digest lists the notifications
 * made before it; those made after wait for the next day's. Its e-mail is keyed by person and day, so it goes once.
 */
export function dueDigest(now: Date): { day: string; cutoff: Date } {
  const today = londonIsoDate(now);
  const todayCutoff = londonToUtc(today, DIGEST_TIME);
  if (todayCutoff.getTime() <= now.getTime()) return { day: today, cutoff: todayCutoff };
  // Twelve hours before 07:00 is the evening before in London, whatever the clocks did overnight.
  const yesterday = londonIsoDate(new Date(todayCutoff.getTime() - 12 * 3600_000));
  return { day: yesterday, cutoff: londonToUtc(yesterday, DIGEST_TIME) };
}

/** Why the person gets an instant e-mail of each kind, as its e-mail says. */
const WHY: Record<NotificationKind, string> = {
  'discussion-reply': 'You follow this thread.',
  'discussion-mention': 'Someone mentioned you in a discussion you can read.',
  'discussion-accepted': 'Your reply was accepted as the answer.',
  'discussion-new-thread': 'You follow this discussion.',
  'community-join-request': 'You moderate this community.',
};

type Claimable = Pick<InAppNotification, 'id' | 'userId' | 'kind' | 'title' | 'excerpt' | 'url' | 'createdAt'>;

/**
 * The e-mails of in-app notifications. Each is sent once, whatever runs it and how often: the notifications are
 * claimed (their `emailed_at` set, under a row lock on MariaDB) in the same transaction that records their messages in
 * the mail outbox, so a worker that dies after the commit leaves messages the mail sweep delivers, and one that dies
 * before leaves notifications the next try (or this module's sweep) claims; the mail outbox's unique key on the
 * message's dedupe key is the second guard. The messages are recorded leased to this worker and sent at once.
 */
@Injectable()
export class InAppEmails {
  private readonly logger = new Logger('InAppEmails');
  private readonly locks: boolean;

  constructor(
    @InjectRepository(InAppNotification) private readonly notifications: Repository<InAppNotification>,
    @InjectDataSource() dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly mail: MailService,
    private readonly unsubscribe: NotificationsService,
    private readonly accounts: AccountsService,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.locks = !isSqlite(dataSource);
  }

  /** Sends the instant e-mail of each of these notifications not e-mailed yet; returns how many it sent. */
  async sendInstant(ids: readonly number[]): Promise<number> {
    if (!ids.length) return 0;
    const pending = await this.notifications.find({ where: { id: In([...ids]), email: 'instant', emailedAt: IsNull() }, select: { id: true, userId: true } });
    if (!pending.length) return 0;
    const contacts = await this.accounts.contactsOf([...new Set(pending.map((n) => n.userId))]);
    const messages = await this.uow.run(async (tx) => {
      const claimed = await this.claim(tx, (qb) => qb.where('n.id IN (:...ids)', { ids: pending.map((n) => n.id) }).andWhere('n.email = :instant', { instant: 'instant' }));
      const recorded: MailMessage[] = [];
      for (const n of claimed) {
        const contact = contacts.get(n.userId);
        if (!contact) continue;
        const unsubscribe = this.unsubscribe.unsubscribeFor(n.userId, n.kind);
        const message = await this.mail.record(
          {
            to: contact.email,
            template: 'discussion-notification',
            dedupeKey: `in-app-notification:${n.id}`,
            headers: unsubscribe.headers,
            data: {
              name: contact.name,
              title: n.title,
              excerpt: n.excerpt,
              url: this.absolute(n.url),
              why: WHY[n.kind],
              notificationsUrl: `${this.config.publicUrl}/notifications`,
              preferencesUrl: unsubscribe.preferencesUrl,
              unsubscribeUrl: unsubscribe.url,
            },
          },
          { tx, claimed: true },
        );
        if (message) recorded.push(message);
      }
      return recorded;
    });
    await Promise.all(messages.map((m) => this.mail.deliverNow(m)));
    return messages.length;
  }

  /**
   * The daily digests due now (see dueDigest): for each person with 'daily' notifications not e-mailed and made
   * before today's 07:00 (London), one e-mail listing them, and they are marked e-mailed. Before 07:00 it finds
   * yesterday's, sent already. Hourly; any number of runs, at once or not, send one digest per person and day.
   */
  async sendDigests(): Promise<number> {
    const { day, cutoff } = dueDigest(this.clock.now());
    let sent = 0;
    let after = 0;
    for (;;) {
      const people = await this.notifications
        .createQueryBuilder('n')
        .select('DISTINCT n.userId', 'userId')
        .where('n.email = :daily AND n.emailedAt IS NULL AND n.createdAt < :cutoff AND n.userId > :after', { daily: 'daily', cutoff, after })
        .orderBy('n.userId', 'ASC')
        .limit(DIGEST_PEOPLE_PAGE)
        .getRawMany<{ userId: number | string }>();
      if (!people.length) break;
      const userIds = people.map((p) => Number(p.userId));
      after = userIds[userIds.length - 1];
      const contacts = await this.accounts.contactsOf(userIds);
      const messages: MailMessage[] = [];
      for (const userId of userIds) {
        const contact = contacts.get(userId);
        if (!contact) continue;
        const message = await this.uow.run(async (tx) => {
          const claimed = await this.claim(tx, (qb) => qb.where('n.userId = :userId AND n.email = :daily AND n.createdAt < :cutoff', { userId, daily: 'daily', cutoff }));
          if (!claimed.length) return null;
          const unsubscribe = this.unsubscribe.unsubscribeFor(userId, 'discussion-digest');
          const newest = [...claimed].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
          const recorded = await this.mail.record(
            {
              to: contact.email,
              template: 'discussion-digest',
              dedupeKey: `discussion-digest:${userId}:${day}`,
              headers: unsubscribe.headers,
              data: {
                name: contact.name,
                count: claimed.length,
                items: newest.slice(0, DIGEST_LISTED).map((n) => ({ title: n.title, excerpt: n.excerpt, url: this.absolute(n.url) })),
                more: Math.max(0, claimed.length - DIGEST_LISTED),
                notificationsUrl: `${this.config.publicUrl}/notifications`,
                preferencesUrl: unsubscribe.preferencesUrl,
                unsubscribeUrl: unsubscribe.url,
              },
            },
            { tx, claimed: true },
          );
          // Today's digest went already (a clock behind another's): these wait for tomorrow's, so the claim is undone.
          if (!recorded) throw new DigestAlreadySent();
          return recorded;
        }).catch((err: unknown) => {
          if (err instanceof DigestAlreadySent) return null;
          throw err;
        });
        if (message) messages.push(message);
      }
      await Promise.all(messages.map((m) => this.mail.deliverNow(m)));
      sent += messages.length;
    }
    if (sent) this.logger.log(`Discussion digests of ${day}: ${sent} sent`);
    return sent;
  }

  /** Enqueues again the instant e-mails of notifications unclaimed for over a minute (their job lost, or Redis away). */
  async sweep(): Promise<number> {
    const stale = await this.notifications.find({
      where: { email: 'instant', emailedAt: IsNull(), createdAt: LessThan(new Date(this.clock.now().getTime() - SWEEP_AFTER_MS)) },
      select: { id: true },
      order: { id: 'ASC' },
      take: 20 * EMAIL_BATCH,
    });
    for (const batch of emailBatches(stale.map((n) => n.id))) await this.jobs.enqueue(INSTANT_EMAIL_JOB, { ids: batch.ids }, { jobId: batch.jobId, rerunFinished: true, attempts: 8 });
    if (stale.length) this.logger.log(`Re-enqueued the instant e-mails of ${stale.length} notification(s)`);
    return stale.length;
  }

  /**
   * Locks the notifications `where` picks that are not e-mailed yet (SELECT … FOR UPDATE on MariaDB: a second worker
   * with the same batch waits, then finds them claimed), and sets their `emailed_at`: they are this transaction's.
   */
  private async claim(tx: EntityManager, where: (qb: SelectQueryBuilder<InAppNotification>) => SelectQueryBuilder<InAppNotification>): Promise<Claimable[]> {
    const qb = where(tx.getRepository(InAppNotification).createQueryBuilder('n'))
      .andWhere('n.emailedAt IS NULL')
      .select(['n.id', 'n.userId', 'n.kind', 'n.title', 'n.excerpt', 'n.url', 'n.createdAt'])
      .orderBy('n.id', 'ASC');
    if (this.locks) qb.setLock('pessimistic_write');
    const claimed = await qb.getMany();
    if (claimed.length) {
      await tx
        .getRepository(InAppNotification)
        .createQueryBuilder()
        .update()
        .set({ emailedAt: this.clock.now() })
        .where('id IN (:...ids)', { ids: claimed.map((n) => n.id) })
        .execute();
    }
    return claimed;
  }

  private absolute(path: string): string {
    return path.startsWith('/') && !path.startsWith('//') ? `${this.config.publicUrl}${path}` : `${this.config.publicUrl}/notifications`;
  }
}

class DigestAlreadySent extends Error {}
