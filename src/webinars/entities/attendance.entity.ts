import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn } from '../../database/columns';
import type { WatchState } from '../../learning/coverage';

/**
 * How one learner took part in one webinar: live (when they followed the join link) and through the
 * recording (the same watch state as a video lesson). `creditedAt` is set once they qualify for a
 * certificate of attendance; `creditRecordedAt` once the certificate exists (the sweep's marker).
 */
@Entity('webinar_attendance')
@Index('uq_webinar_attendance_user', ['webinarId', 'userId'], { unique: true })
@Index('idx_webinar_attendance_user', ['userId'])
@Index('idx_webinar_attendance_credit', ['creditedAt', 'creditRecordedAt'])
export class WebinarAttendance implements WatchState {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  webinarId!: number;

  @ManyToOne('Webinar', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webinar_id', foreignKeyConstraintName: 'fk_webinar_attendance_webinar' })
  webinar?: unknown;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_webinar_attendance_user' })
  user?: unknown;

  @DateTimeColumn({ nullable: true })
  firstJoinedAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  lastJoinedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  joinCount!: number;

  @Column({ type: 'integer', default: 0 })
  positionSeconds!: number;

  @Column({ type: 'integer', default: 0 })
  coveredSeconds!: number;

  @Column({ type: 'text', nullable: true })
  watchedIntervals!: string | null;

  @Column({ type: 'integer', default: 0 })
  watchAllowanceMs!: number;

  @DateTimeColumn({ nullable: true })
  heartbeatAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  creditedAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  creditRecordedAt!: Date | null;

  @DateTimeColumn()
  updatedAt!: Date;
}
