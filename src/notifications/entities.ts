import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../database/columns';

/** What a learner wants by e-mail beyond the transactional (certificates, password resets). No row: the defaults. */
@Entity('mail_preferences')
export class MailPreferences {
  @PrimaryColumn({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_mail_preferences_user' })
  user?: unknown;

  @Column({ type: 'boolean', default: true })
  courseNudges!: boolean;

  @Column({ type: 'boolean', default: false })
  weeklyDigest!: boolean;

  /** The Monday compliance digest of the organisations they manage: on unless they turn it off. */
  @Column({ type: 'boolean', default: true })
  managerDigest!: boolean;

  @DateTimeColumn()
  updatedAt!: Date;
}

/** A topic a learner follows: its new courses appear in their weekly digest. */
@Entity('topic_follows')
@Index('idx_topic_follows_topic', ['topicId'])
export class TopicFollow {
  @PrimaryColumn({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_topic_follows_user' })
  user?: unknown;

  @PrimaryColumn({ type: 'integer' })
  topicId!: number;

  @ManyToOne('Topic', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'topic_id', foreignKeyConstraintName: 'fk_topic_follows_topic' })
  topic?: unknown;
}

/** The kinds of in-app notification; each has its own e-mail setting (NotificationSetting). */
export const NOTIFICATION_KINDS = ['discussion-reply', 'discussion-mention', 'discussion-accepted', 'discussion-new-thread', 'community-join-request'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** How a person wants a kind of notification by e-mail: as it happens, in a daily digest, or not at all. */
export const EMAIL_DELIVERIES = ['instant', 'daily', 'off'] as const;
export type EmailDelivery = (typeof EMAIL_DELIVERIES)[number];

/**
 * Something that happened for a person (a reply in a thread they follow, a mention…), listed on /notifications with
 * an unread count in the header. One per person and `dedupeKey`, so handing it out twice is one notification.
 * `email` is the delivery chosen when it was made; `emailedAt` is set once its e-mail (instant or digest) is recorded.
 */
@Entity('in_app_notifications')
@Index('uq_in_app_notifications', ['userId', 'dedupeKey'], { unique: true })
@Index('idx_in_app_notifications_unread', ['userId', 'readAt', 'createdAt'])
@Index('idx_in_app_notifications_list', ['userId', 'createdAt'])
@Index('idx_in_app_notifications_email', ['email', 'emailedAt', 'userId'])
export class InAppNotification {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_in_app_notifications_user' })
  user?: unknown;

  @VarcharColumn(30)
  kind!: NotificationKind;

  /** E.g. `discussion-reply:{postId}`: one notification per person and event. */
  @VarcharColumn(120)
  dedupeKey!: string;

  /** One line: "Priya Shah replied to “Moving to the new EPR”". */
  @VarcharColumn(300)
  title!: string;

  /** A plain-text excerpt of what was written. */
  @VarcharColumn(600, { default: '' })
  excerpt!: string;

  /** Where it leads, a path on this site (/discussions/threads/12#post-34). */
  @VarcharColumn(500)
  url!: string;

  @Column({ type: 'integer', nullable: true })
  actorId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_in_app_notifications_actor' })
  actor?: unknown;

  @VarcharColumn(8)
  email!: EmailDelivery;

  @DateTimeColumn({ nullable: true })
  emailedAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  readAt!: Date | null;

  @DateTimeColumn()
  createdAt!: Date;
}

/** A person's e-mail choice for one kind of notification. No row: the kind's default. */
@Entity('notification_settings')
@Index('uq_notification_settings', ['userId', 'kind'], { unique: true })
export class NotificationSetting {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_notification_settings_user' })
  user?: unknown;

  @VarcharColumn(30)
  kind!: NotificationKind;

  @VarcharColumn(8)
  delivery!: EmailDelivery;

  @DateTimeColumn()
  updatedAt!: Date;
}
