import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { EXPORT_PAGE_SIZE, pagedRows, PersonalDataRegistry } from '../../common/personal-data';
import { InAppNotification, NotificationSetting } from '../entities';
import { NotificationSettings } from './notification-settings';

/** In-app notifications and their e-mail settings: the person's own, and those that name them as who did something. */
@Injectable()
export class InAppNotificationsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    @InjectRepository(InAppNotification) private readonly notifications: Repository<InAppNotification>,
    private readonly settings: NotificationSettings,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'notificationSettings',
        description: 'How you chose to be e-mailed about replies, mentions, accepted answers and new threads in discussions',
        export: (userId) => this.settings.settingsOf(userId),
        erase: async (tx, userId) => {
          const removed = (await tx.getRepository(NotificationSetting).delete({ userId })).affected ?? 0;
          return { counts: { notificationSettings: removed } };
        },
      },
      {
        name: 'notifications',
        description: 'Your notifications: what they said, where they led, when you read them and when they were e-mailed',
        export: (userId) => this.pages(userId),
        erase: async (tx, userId) => {
          const repo = tx.getRepository(InAppNotification);
          const own = (await repo.delete({ userId })).affected ?? 0;
          // Others' notifications of what this person did carry their name in the title: gone with them.
          const aboutThem = (await repo.delete({ actorId: userId })).affected ?? 0;
          return { counts: { notifications: own, notificationsAboutThem: aboutThem } };
        },
      },
    );
  }

  private pages(userId: number): AsyncIterable<unknown> {
    return pagedRows<InAppNotification, unknown>(
      (after) =>
        this.notifications
          .createQueryBuilder('n')
          .select(['n.id', 'n.kind', 'n.title', 'n.excerpt', 'n.url', 'n.email', 'n.emailedAt', 'n.readAt', 'n.createdAt'])
          .where('n.userId = :userId AND n.id > :after', { userId, after: after?.id ?? 0 })
          .orderBy('n.id', 'ASC')
          .limit(EXPORT_PAGE_SIZE)
          .getMany(),
      (n) => ({ id: n.id, kind: n.kind, title: n.title, excerpt: n.excerpt, url: n.url, email: n.email, emailedAt: n.emailedAt, readAt: n.readAt, createdAt: n.createdAt }),
    );
  }
}
