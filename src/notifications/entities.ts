import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../database/columns';

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
