import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { DiscussionPost } from './thread.entities';

export const REPORT_REASONS = ['spam', 'abuse', 'off-topic', 'personal-data', 'clinical-risk', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export type ReportStatus = 'open' | 'upheld' | 'dismissed';

/** Someone's report of a post. One per person and post: reporting twice is one report. */
@Entity('discussion_reports')
@Index('uq_discussion_reports', ['postId', 'reporterId'], { unique: true })
@Index('idx_discussion_reports_status', ['status', 'createdAt'])
export class DiscussionReport {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  postId!: number;

  @ManyToOne(() => DiscussionPost, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'fk_discussion_reports_post' })
  post?: DiscussionPost;

  @Column({ type: 'integer', nullable: true })
  reporterId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'reporter_id', foreignKeyConstraintName: 'fk_discussion_reports_reporter' })
  reporter?: unknown;

  @VarcharColumn(20)
  reason!: ReportReason;

  @VarcharColumn(1000, { default: '' })
  details!: string;

  @VarcharColumn(12)
  status!: ReportStatus;

  @Column({ type: 'integer', nullable: true })
  decidedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'decided_by_id', foreignKeyConstraintName: 'fk_discussion_reports_decided_by' })
  decidedBy?: unknown;

  @DateTimeColumn({ nullable: true })
  decidedAt!: Date | null;

  @DateTimeColumn()
  createdAt!: Date;
}

/** A moderator's suspension of a person from posting, until `endsAt` (or until lifted), with the reason they are told. */
@Entity('discussion_suspensions')
@Index('idx_discussion_suspensions_user', ['userId', 'endsAt'])
export class DiscussionSuspension {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_suspensions_user' })
  user?: unknown;

  @VarcharColumn(1000)
  reason!: string;

  @Column({ type: 'integer', nullable: true })
  suspendedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'suspended_by_id', foreignKeyConstraintName: 'fk_discussion_suspensions_suspended_by' })
  suspendedBy?: unknown;

  @DateTimeColumn()
  startsAt!: Date;

  @DateTimeColumn()
  endsAt!: Date;

  @DateTimeColumn({ nullable: true })
  liftedAt!: Date | null;

  @DateTimeColumn()
  createdAt!: Date;
}
