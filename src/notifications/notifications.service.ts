import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { CatalogueService } from '../catalogue/catalogue.service';
import { Clock } from '../common/clock';
import { londonIsoDate } from '../common/london-time';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';
import { MailService } from '../mail/mail.service';
import { MailPreferences, NOTIFICATION_KINDS, TopicFollow } from './entities';
import { isNotificationKind, NotificationSettings } from './in-app/notification-settings';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'notifications.nudges': Record<string, never>;
    'notifications.digest': Record<string, never>;
  }
}

export const MAIL_KINDS = ['course-nudges', 'weekly-digest', 'manager-digest', ...NOTIFICATION_KINDS, 'discussion-digest'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];
const KIND_LABELS: Record<MailKind, string> = {
  'course-nudges': 'reminders about courses you have started',
  'weekly-digest': 'the weekly digest',
  'manager-digest': 'the weekly required learning digest of the organisations you manage',
  'discussion-reply': 'e-mails about replies in discussions you follow',
  'discussion-mention': 'e-mails when someone mentions you in a discussion',
  'discussion-accepted': 'e-mails when your answer to a question is accepted',
  'discussion-new-thread': 'e-mails about new threads in discussions you follow',
  'community-join-request': 'e-mails when someone asks to join a community you moderate',
  'discussion-digest': 'the daily digest of your discussion notifications',
};
/** Unsubscribe links in old e-mails keep working this long. */
const UNSUBSCRIBE_LINK_DAYS = 180;
const DAY_MS = 24 * 3600 * 1000;

export interface Preferences {
  courseNudges: boolean;
  weeklyDigest: boolean;
  managerDigest: boolean;
  topicIds: number[];
}

/**
 * The e-mail that is not transactional: reminders about idle courses and the weekly digest, each with
 * signed one-click unsubscribe links, and the preferences that govern them.
 */
@Injectable()
export class NotificationsService {
  private readonly logger = new Logger('Notifications');

  constructor(
    @InjectRepository(MailPreferences) private readonly preferences: Repository<MailPreferences>,
    @InjectRepository(TopicFollow) private readonly follows: Repository<TopicFollow>,
    private readonly accounts: AccountsService,
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly catalogue: CatalogueService,
    private readonly mail: MailService,
    private readonly notificationSettings: NotificationSettings,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async preferencesOf(userId: number): Promise<Preferences> {
    const [row, follows] = await Promise.all([this.preferences.findOneBy({ userId }), this.follows.findBy({ userId })]);
    return { courseNudges: row?.courseNudges ?? true, weeklyDigest: row?.weeklyDigest ?? false, managerDigest: row?.managerDigest ?? true, topicIds: follows.map((f) => f.topicId) };
  }

  async savePreferences(userId: number, wanted: Preferences): Promise<void> {
    const topicIds = await this.catalogue.existingTopicIds([...new Set(wanted.topicIds)]);
    await this.preferences.upsert({ userId, courseNudges: wanted.courseNudges, weeklyDigest: wanted.weeklyDigest, managerDigest: wanted.managerDigest, updatedAt: this.clock.now() }, ['userId']);
    await this.follows.delete({ userId });
    if (topicIds.length) await this.follows.insert(topicIds.map((topicId) => ({ userId, topicId })));
  }

  /** Turns one kind of e-mail off, as a signed unsubscribe link asks. */
  async unsubscribe(userId: number, kind: MailKind): Promise<void> {
    // Discussion e-mails: that kind off, or every kind the daily digest carries (its own link).
    if (isNotificationKind(kind) || kind === 'discussion-digest') return this.notificationSettings.unsubscribe(userId, kind === 'discussion-digest' ? 'digest' : kind);
    const current = await this.preferencesOf(userId);
    await this.preferences.upsert(
      {
        userId,
        courseNudges: kind === 'course-nudges' ? false : current.courseNudges,
        weeklyDigest: kind === 'weekly-digest' ? false : current.weeklyDigest,
        managerDigest: kind === 'manager-digest' ? false : current.managerDigest,
        updatedAt: this.clock.now(),
      },
      ['userId'],
    );
  }

  /** Of these people, those who turned the managers' digest off. */
  async managerDigestOptOuts(userIds: number[]): Promise<Set<number>> {
    if (!userIds.length) return new Set();
    const rows = await this.preferences.find({ where: { userId: In(userIds), managerDigest: false }, select: { userId: true } });
    return new Set(rows.map((r) => r.userId));
  }

  /** The unsubscribe header and link for an e-mail of this kind that another module sends. */
  unsubscribeFor(userId: number, kind: MailKind): { headers: Record<string, string>; url: string; preferencesUrl: string } {
    return { headers: this.unsubscribeHeaders(userId, kind), url: this.unsubscribeUrl(userId, kind), preferencesUrl: `${this.config.publicUrl}/account/email-preferences` };
  }

  kindLabel(kind: MailKind): string {
    return KIND_LABELS[kind];
  }

  /** The query string of a signed unsubscribe link: who, what, until when, and an HMAC of the three. */
  unsubscribeQuery(userId: number, kind: MailKind): string {
    const expires = Math.floor((this.clock.now().getTime() + UNSUBSCRIBE_LINK_DAYS * DAY_MS) / 1000);
    return new URLSearchParams({ u: String(userId), k: kind, x: String(expires), s: this.sign(userId, kind, expires) }).toString();
  }

  /** The person and kind a link names, if its signature is ours and it has not expired; null otherwise. */
  readUnsubscribeLink(query: Record<string, unknown>): { userId: number; kind: MailKind } | null {
    const userId = Number(query.u);
    const expires = Number(query.x);
    const kind = query.k as MailKind;
    if (!Number.isInteger(userId) || !Number.isInteger(expires) || !MAIL_KINDS.includes(kind) || typeof query.s !== 'string') return null;
    const expected = Buffer.from(this.sign(userId, kind, expires));
    const given = Buffer.from(query.s);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (expires * 1000 < this.clock.now().getTime()) return null;
    return { userId, kind };
  }

  /**
   * Reminds learners of courses gone quiet for NUDGE_AFTER_DAYS: one reminder per quiet spell, at most one
   * per course per NUDGE_AFTER_DAYS, none once completed or withdrawn, none to those who turned them off.
   * Idempotent: each reminder's e-mail is keyed by (enrolment, last activity).
   */
  async sendNudges(): Promise<number> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.nudgeAfterDays * DAY_MS);
    let sent = 0;
    for (;;) {
      const idle = await this.learning.idleEnrolments(cutoff, cutoff, 200);
      if (!idle.length) return sent;
      const userIds = [...new Set(idle.map((e) => e.userId))];
      const [contacts, optedOut, next, cards] = await Promise.all([
        this.accounts.contactsOf(userIds),
        this.preferences.find({ where: { userId: In(userIds), courseNudges: false }, select: { userId: true } }),
        this.progress.nextLessons(idle),
        this.catalogue.cards([...new Set(idle.map((e) => e.courseId))]),
      ]);
      const off = new Set(optedOut.map((p) => p.userId));
      for (const enrolment of idle) {
        const contact = contacts.get(enrolment.userId);
        const course = cards.get(enrolment.courseId);
        if (contact && course && !off.has(enrolment.userId)) {
          const lessonId = next.get(enrolment.id);
          await this.mail.send({
            to: contact.email,
            template: 'course-nudge',
            dedupeKey: `course-nudge:${enrolment.id}:${enrolment.lastActivityAt.getTime()}`,
            headers: this.unsubscribeHeaders(enrolment.userId, 'course-nudges'),
            data: {
              name: contact.name,
              courseTitle: course.title,
              progressPercent: enrolment.progressPercent,
              continueUrl: `${this.config.publicUrl}/courses/${course.slug}${lessonId ? `/lessons/${lessonId}` : ''}`,
              preferencesUrl: `${this.config.publicUrl}/account/email-preferences`,
              unsubscribeUrl: this.unsubscribeUrl(enrolment.userId, 'course-nudges'),
            },
          });
          sent++;
        }
        // Marked even when not sent (opted out, course gone), so the batch moves on.
        await this.learning.markNudged(enrolment.id, enrolment.lastActivityAt, now);
      }
    }
  }

  /**
   * The weekly digest for those who asked for it: their courses in progress and new courses in topics they
   * follow. One per learner per ISO week (Europe/London), whatever runs it and how often.
   */
  async sendDigests(): Promise<number> {
    const now = this.clock.now();
    const week = isoWeek(now);
    const subscribers = await this.preferences.find({ where: { weeklyDigest: true }, select: { userId: true } });
    let sent = 0;
    for (let i = 0; i < subscribers.length; i += 200) {
      const userIds = subscribers.slice(i, i + 200).map((p) => p.userId);
      const [contacts, follows] = await Promise.all([this.accounts.contactsOf(userIds), this.follows.find({ where: { userId: In(userIds) } })]);
      for (const userId of userIds) {
        const contact = contacts.get(userId);
        if (!contact) continue;
        const [enrolments, newCourses] = await Promise.all([
          this.learning.listFor(userId),
          this.catalogue.publishedSince(follows.filter((f) => f.userId === userId).map((f) => f.topicId), new Date(now.getTime() - 7 * DAY_MS)),
        ]);
        const inProgress = enrolments.filter((e) => e.status === 'active');
        if (!inProgress.length && !newCourses.length) continue;
        await this.mail.send({
          to: contact.email,
          template: 'weekly-digest',
          dedupeKey: `weekly-digest:${userId}:${week}`,
          headers: this.unsubscribeHeaders(userId, 'weekly-digest'),
          data: {
            name: contact.name,
            week,
            inProgress: inProgress.map((e) => ({ title: e.course.title, progressPercent: e.progressPercent, url: `${this.config.publicUrl}/courses/${e.course.slug}` })),
            newCourses: newCourses.map((c) => ({ title: c.title, summary: c.summary, url: `${this.config.publicUrl}/courses/${c.slug}` })),
            preferencesUrl: `${this.config.publicUrl}/account/email-preferences`,
            unsubscribeUrl: this.unsubscribeUrl(userId, 'weekly-digest'),
          },
        });
        sent++;
      }
    }
    if (sent) this.logger.log(`Weekly digest ${week}: ${sent} requested`);
    return sent;
  }

  private unsubscribeUrl(userId: number, kind: MailKind): string {
    return `${this.config.publicUrl}/unsubscribe?${this.unsubscribeQuery(userId, kind)}`;
  }

  /** RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs to the one-click URL. */
  private unsubscribeHeaders(userId: number, kind: MailKind): Record<string, string> {
    return {
      'List-Unsubscribe': `<${this.config.publicUrl}/api/v1/unsubscribe?${this.unsubscribeQuery(userId, kind)}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }

  private sign(userId: number, kind: MailKind, expires: number): string {
    return createHmac('sha256', this.config.session.secret).update(`unsubscribe:${userId}:${kind}:${expires}`).digest('base64url');
  }
}

/** The ISO week of a moment in Europe/London, e.g. 2026-W48. */
export function isoWeek(moment: Date): string {
  const [y, m, d] = londonIsoDate(moment).split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(date.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((date.getTime() - yearStart.getTime()) / DAY_MS + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
