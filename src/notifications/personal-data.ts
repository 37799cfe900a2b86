import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PersonalDataRegistry } from '../common/personal-data';
import { MailPreferences, TopicFollow } from './entities';

/** The notifications module's personal data: which e-mails the person chose, and the topics they follow. */
@Injectable()
export class NotificationsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    @InjectRepository(MailPreferences) private readonly preferences: Repository<MailPreferences>,
    @InjectRepository(TopicFollow) private readonly follows: Repository<TopicFollow>,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'emailPreferences',
      description: 'Your e-mail preferences: course reminders, the weekly digest and the topics you follow',
      export: async (userId) => {
        const [row, follows] = await Promise.all([
          this.preferences.findOneBy({ userId }),
          this.follows.createQueryBuilder('f').innerJoin('f.topic', 't').select(['f.userId', 'f.topicId', 't.id', 't.name']).where('f.userId = :userId', { userId }).orderBy('t.name').getMany(),
        ]);
        return {
          // No row: the defaults, never chosen.
          courseReminders: row?.courseNudges ?? true,
          weeklyDigest: row?.weeklyDigest ?? false,
          chosenAt: row?.updatedAt ?? null,
          topicsFollowed: follows.map((f) => ({ id: f.topicId, name: (f.topic as { name: string }).name })),
        };
      },
      erase: async (tx, userId) => {
        const preferences = (await tx.getRepository(MailPreferences).delete({ userId })).affected ?? 0;
        const topics = (await tx.getRepository(TopicFollow).delete({ userId })).affected ?? 0;
        return { counts: { emailPreferences: preferences, topicsFollowed: topics } };
      },
    });
  }
}
