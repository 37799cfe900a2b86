import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { EMAIL_DELIVERIES, InAppNotification, NOTIFICATION_KINDS, NotificationSetting, type EmailDelivery, type NotificationKind } from '../entities';

/**
 * What each kind is by e-mail for someone who never chose: what is said to them (a reply in a thread they follow, a
 * mention, their answer accepted) as it happens; new threads in the spaces they follow, which can be many in a busy
 * space and are rarely urgent, once a day in the digest.
 */
export const DEFAULT_DELIVERY: Record<NotificationKind, EmailDelivery> = {
  'discussion-reply': 'instant',
  'discussion-mention': 'instant',
  'discussion-accepted': 'instant',
  'discussion-new-thread': 'daily',
  'community-join-request': 'instant',
};

/** Each kind in words, for the preferences page (the question) and the e-mails. */
export const NOTIFICATION_KIND_LABELS: Record<NotificationKind, { legend: string; hint: string }> = {
  'discussion-reply': { legend: 'Replies in discussions you follow', hint: 'You follow a thread when you start it or reply to it, or when you choose to follow it' },
  'discussion-mention': { legend: 'When someone mentions you', hint: 'Someone writes your @name in a discussion you can read' },
  'discussion-accepted': { legend: 'When your answer is accepted', hint: 'The person who asked a question, or a moderator, accepts your reply as its answer' },
  'discussion-new-thread': { legend: 'New threads in spaces you follow', hint: 'Someone starts a thread in a course, webinar or community discussion you follow' },
  'community-join-request': { legend: 'Requests to join a community you moderate', hint: 'Someone asks to join a members-only community; its moderators (or, while it has none, the site’s moderators) approve or decline' },
};

export const DELIVERY_LABELS: Record<EmailDelivery, string> = { instant: 'As it happens', daily: 'In a daily digest (after 7am)', off: 'Never' };

export type NotificationSettingsView = Record<NotificationKind, EmailDelivery>;

export const isNotificationKind = (value: unknown): value is NotificationKind => typeof value === 'string' && (NOTIFICATION_KINDS as readonly string[]).includes(value);
export const isEmailDelivery = (value: unknown): value is EmailDelivery => typeof value === 'string' && (EMAIL_DELIVERIES as readonly string[]).includes(value);

/**
 * People's e-mail choice per kind of notification (instant, daily, off). A row only where someone chose something
 * other than the default, or changed their mind; saving the same choices again writes nothing.
 */
@Injectable()
export class NotificationSettings {
  constructor(
    @InjectRepository(NotificationSetting) private readonly settings: Repository<NotificationSetting>,
    @InjectRepository(InAppNotification) private readonly notifications: Repository<InAppNotification>,
    private readonly clock: Clock,
  ) {}

  async settingsOf(userId: number): Promise<NotificationSettingsView> {
    const rows = await this.settings.find({ where: { userId }, select: { kind: true, delivery: true } });
    const view = { ...DEFAULT_DELIVERY };
    for (const row of rows) if (isNotificationKind(row.kind) && isEmailDelivery(row.delivery)) view[row.kind] = row.delivery;
    return view;
  }

  /** Each person's delivery of the kinds named, read in one query per thousand people: `deliveryOf(userId, kind)`. */
  async deliveriesOf(userIds: readonly number[], kinds: readonly NotificationKind[]): Promise<(userId: number, kind: NotificationKind) => EmailDelivery> {
    const chosen = new Map<string, EmailDelivery>();
    const unique = [...new Set(userIds)];
    for (let at = 0; at < unique.length; at += 1000) {
      const rows = await this.settings.find({ where: { userId: In(unique.slice(at, at + 1000)), kind: In([...new Set(kinds)]) }, select: { userId: true, kind: true, delivery: true } });
      for (const row of rows) chosen.set(`${row.userId}:${row.kind}`, row.delivery);
    }
    return (userId, kind) => chosen.get(`${userId}:${kind}`) ?? DEFAULT_DELIVERY[kind];
  }

  /**
   * Saves the choices given (kinds left out stay as they are). Only what differs from what is in force is written, so
   * saving the page unchanged changes nothing. Turning a kind off also stops its e-mails not yet sent (a digest waiting
   * for the morning, an e-mail not yet claimed); choosing a faster delivery applies to what happens from now on.
   */
  async save(userId: number, wanted: Partial<NotificationSettingsView>): Promise<NotificationKind[]> {
    const current = await this.settingsOf(userId);
    const changed = NOTIFICATION_KINDS.filter((kind) => wanted[kind] !== undefined && wanted[kind] !== current[kind]);
    const now = this.clock.now();
    for (const kind of changed) {
      const delivery = wanted[kind]!;
      await this.settings.upsert({ userId, kind, delivery, updatedAt: now }, ['userId', 'kind']);
      if (delivery === 'off') await this.notifications.update({ userId, kind, emailedAt: IsNull() }, { email: 'off' });
    }
    return changed;
  }

  /** What an unsubscribe link asks: one kind off, or (the digest's link) every kind that now goes in the digest. */
  async unsubscribe(userId: number, what: NotificationKind | 'digest'): Promise<void> {
    if (what !== 'digest') {
      await this.save(userId, { [what]: 'off' });
      return;
    }
    const current = await this.settingsOf(userId);
    await this.save(userId, Object.fromEntries(NOTIFICATION_KINDS.filter((kind) => current[kind] === 'daily').map((kind) => [kind, 'off'])));
  }
}
