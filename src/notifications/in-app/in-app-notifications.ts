import { PerPersonCache, type PerPersonFacts } from '../../redis/per-person-cache';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Not, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { NotFound } from '../../common/errors';
import { JobsService } from '../../jobs/jobs.service';
import { InAppNotification, type NotificationKind } from '../entities';
import { emailBatches, INSTANT_EMAIL_JOB } from './in-app-emails';
import { NotificationSettings, type NotificationSettingsView } from './notification-settings';

/** What happened for one person, as another module hands it out (the discussions' fan-out, say). */
export interface NotificationEntry {
  userId: number;
  kind: NotificationKind;
  /** One notification per person and key, however often it is handed out: e.g. `post:{postId}`. */
  dedupeKey: string;
  /** One line: "Ada Lovelace replied in “Hazard workshops”". Plain text. */
  title: string;
  /** Plain text of what was written (the first 200 characters or so). */
  excerpt: string;
  /** A path on this site where it leads. */
  url: string;
  actorId: number | null;
}

export interface NotificationView {
  id: number;
  kind: NotificationKind;
  title: string;
  excerpt: string;
  url: string;
  read: boolean;
  createdAt: Date;
}

export interface NotificationPage {
  items: NotificationView[];
  unreadCount: number;
  page: number;
  pages: number;
  total: number;
}

export const NOTIFICATIONS_PER_PAGE = 20;
/** Rows per multi-row INSERT. */
const INSERT_BATCH = 500;
export const NO_SUCH_NOTIFICATION = 'There is no such notification';

const TITLE_MAX = 300;
const EXCERPT_MAX = 600;
const URL_MAX = 500;
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * In-app notifications: handed out in bulk (one multi-row INSERT per batch; what was handed out before is skipped by
 * the unique key on person and dedupe key, on both engines), each with the e-mail delivery its person chose for its
 * kind; instant ones get their e-mail job(s) at once, a batch of notifications per job. Listed newest first, read and
 * unread by their person only (anyone else's is 404).
 */
/** How many unread notifications a person has, for the header. */
const UNREAD_FACTS: PerPersonFacts = { kind: 'unread-notifications', ttlSeconds: 60 };

@Injectable()
export class InAppNotifications {
  constructor(
    @InjectRepository(InAppNotification) private readonly notifications: Repository<InAppNotification>,
    private readonly settings: NotificationSettings,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    private readonly people: PerPersonCache,
  ) {}

  /**
   * Records the notifications (those whose person and key exist already are left as they were) and enqueues the
   * e-mails of the instant ones not yet e-mailed. Safe to run again with the same entries: nothing is made twice and
   * the e-mail jobs have the same ids. If the queue is away the sweep enqueues those e-mails a minute later.
   */
  async notify(entries: readonly NotificationEntry[]): Promise<void> {
    for (let at = 0; at < entries.length; at += INSERT_BATCH) {
      const batch = entries.slice(at, at + INSERT_BATCH);
      const deliveryOf = await this.settings.deliveriesOf(
        batch.map((e) => e.userId),
        batch.map((e) => e.kind),
      );
      const createdAt = this.clock.now();
      const rows = batch.map((entry) => ({
        userId: entry.userId,
        kind: entry.kind,
        dedupeKey: entry.dedupeKey,
        title: clip(entry.title, TITLE_MAX),
        excerpt: clip(entry.excerpt, EXCERPT_MAX),
        url: entry.url.slice(0, URL_MAX),
        actorId: entry.actorId,
        email: deliveryOf(entry.userId, entry.kind),
        emailedAt: null,
        readAt: null,
        createdAt,
      }));
      await this.notifications.createQueryBuilder().insert().values(rows).orIgnore().updateEntity(false).execute();
      await this.people.forget(UNREAD_FACTS, [...new Set(rows.map((r) => r.userId))]);
      const instant = rows.filter((r) => r.email === 'instant');
      if (instant.length) await this.enqueueEmails(instant);
    }
  }

  /** The e-mail jobs of these (person, key) pairs' notifications still waiting for their instant e-mail. */
  private async enqueueEmails(pairs: ReadonlyArray<{ userId: number; dedupeKey: string }>): Promise<void> {
    const wanted = new Set(pairs.map((p) => `${p.userId}:${p.dedupeKey}`));
    const found = await this.notifications.find({
      where: { userId: In([...new Set(pairs.map((p) => p.userId))]), dedupeKey: In([...new Set(pairs.map((p) => p.dedupeKey))]), email: 'instant', emailedAt: IsNull() },
      select: { id: true, userId: true, dedupeKey: true },
      order: { id: 'ASC' },
    });
    const ids = found.filter((n) => wanted.has(`${n.userId}:${n.dedupeKey}`)).map((n) => n.id);
    for (const batch of emailBatches(ids)) await this.jobs.tryEnqueue(INSTANT_EMAIL_JOB, { ids: batch.ids }, { jobId: batch.jobId, attempts: 8 });
  }

  /** One indexed COUNT (idx_in_app_notifications_unread). */
  unreadCount(userId: number): Promise<number> {
    return this.notifications.count({ where: { userId, readAt: IsNull() } });
  }

  /**
   * The count in the header of every signed-in page: kept per person (PerPersonCache, shared by every instance), so a
   * page costs no query for it; forgotten whenever the person's notifications are added to or marked.
   */
  async headerUnreadCount(userId: number): Promise<number> {
    return (await this.people.remember<number>(UNREAD_FACTS, userId, () => this.unreadCount(userId))) ?? 0;
  }

  async list(userId: number, page: number, options: { unreadOnly?: boolean } = {}): Promise<NotificationPage> {
    const where = options.unreadOnly ? { userId, readAt: IsNull() } : { userId };
    const [total, unreadCount] = await Promise.all([this.notifications.count({ where }), options.unreadOnly ? null : this.unreadCount(userId)]);
    const pages = Math.max(1, Math.ceil(total / NOTIFICATIONS_PER_PAGE));
    const current = Math.min(Math.max(1, page), pages);
    const rows = await this.notifications.find({
      where,
      select: { id: true, kind: true, title: true, excerpt: true, url: true, readAt: true, createdAt: true },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (current - 1) * NOTIFICATIONS_PER_PAGE,
      take: NOTIFICATIONS_PER_PAGE,
    });
    return {
      items: rows.map((n) => ({ id: n.id, kind: n.kind, title: n.title, excerpt: n.excerpt, url: n.url, read: n.readAt !== null, createdAt: n.createdAt })),
      unreadCount: unreadCount ?? total,
      page: current,
      pages,
      total,
    };
  }

  /** The person's own notification (to follow its link); someone else's, or none, is 404. */
  async own(userId: number, id: number): Promise<NotificationView> {
    const n = Number.isSafeInteger(id) && id > 0 ? await this.notifications.findOne({ where: { id, userId }, select: { id: true, kind: true, title: true, excerpt: true, url: true, readAt: true, createdAt: true } }) : null;
    if (!n) throw new NotFound(NO_SUCH_NOTIFICATION);
    return { id: n.id, kind: n.kind, title: n.title, excerpt: n.excerpt, url: n.url, read: n.readAt !== null, createdAt: n.createdAt };
  }

  /** Marks the person's notification read (already read: unchanged); someone else's is 404. */
  async markRead(userId: number, id: number): Promise<NotificationView> {
    const n = await this.own(userId, id);
    if (!n.read) {
      await this.notifications.update({ id, userId, readAt: IsNull() }, { readAt: this.clock.now() });
      await this.people.forget(UNREAD_FACTS, [userId]);
    }
    return { ...n, read: true };
  }

  async markUnread(userId: number, id: number): Promise<NotificationView> {
    const n = await this.own(userId, id);
    if (n.read) {
      await this.notifications.update({ id, userId, readAt: Not(IsNull()) }, { readAt: null });
      await this.people.forget(UNREAD_FACTS, [userId]);
    }
    return { ...n, read: false };
  }

  /** Marks every unread notification of the person read; how many were. */
  async markAllRead(userId: number): Promise<number> {
    const result = await this.notifications.update({ userId, readAt: IsNull() }, { readAt: this.clock.now() });
    await this.people.forget(UNREAD_FACTS, [userId]);
    return result.affected ?? 0;
  }

  settingsOf(userId: number): Promise<NotificationSettingsView> {
    return this.settings.settingsOf(userId);
  }

  saveSettings(userId: number, wanted: Partial<NotificationSettingsView>) {
    return this.settings.save(userId, wanted);
  }
}
