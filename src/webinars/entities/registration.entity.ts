import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

export type RegistrationStatus = 'registered' | 'waitlisted' | 'cancelled';

/**
 * A learner's place at a webinar: one row per learner and webinar (unique), kept when they cancel so a
 * re-registration reuses it and its calendar UID. The waitlist is ordered by `queuedAt`, then id.
 */
@Entity('webinar_registrations')
@Index('uq_webinar_registrations_user', ['webinarId', 'userId'], { unique: true })
@Index('idx_webinar_registrations_queue', ['webinarId', 'status', 'queuedAt'])
@Index('idx_webinar_registrations_user', ['userId', 'status'])
export class WebinarRegistration {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  webinarId!: number;

  @ManyToOne('Webinar', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webinar_id', foreignKeyConstraintName: 'fk_webinar_registrations_webinar' })
  webinar?: unknown;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_webinar_registrations_user' })
  user?: unknown;

  @VarcharColumn(20)
  status!: RegistrationStatus;

  /** When this (re-)registration joined the queue: its place on the waitlist. */
  @DateTimeColumn()
  queuedAt!: Date;

  @DateTimeColumn({ nullable: true })
  promotedAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  /**
   * The registration's own part of its iCalendar SEQUENCE (RFC 5546), raised by each change of the learner's
   * own (cancelling, registering again, promotion); the calendar carries the webinar's sequence plus this.
   */
  @Column({ type: 'integer', default: 0 })
  sequence!: number;
}
