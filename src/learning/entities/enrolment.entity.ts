import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

export type EnrolmentStatus = 'active' | 'withdrawn' | 'completed';

/**
 * One learner on one course (a unique index makes a double submit one enrolment). Withdrawing keeps the row
 * and its progress, so re-enrolling picks up where the learner left off. `progressPercent` is updated with
 * each progress write, so "My learning" lists courses without reading progress rows.
 */
@Entity('enrolments')
@Index('uq_enrolments_user_course', ['userId', 'courseId'], { unique: true })
@Index('idx_enrolments_user_activity', ['userId', 'lastActivityAt'])
@Index('idx_enrolments_course_status', ['courseId', 'status'])
@Index('idx_enrolments_status_completed', ['status', 'completedAt'])
@Index('idx_enrolments_completion_recorded', ['status', 'completionRecordedAt'])
@Index('idx_enrolments_status_activity', ['status', 'lastActivityAt'])
@Index('idx_enrolments_user_figures', ['userId', 'status', 'completedAt', 'progressPercent', 'courseId'])
@Index('idx_enrolments_enrolled', ['enrolledAt', 'courseId', 'status'])
export class Enrolment {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  // By entity name: learning does not import other modules' entity classes.
  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_enrolments_user' })
  user?: unknown;

  @Column({ type: 'integer' })
  courseId!: number;

  @ManyToOne('Course', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'course_id', foreignKeyConstraintName: 'fk_enrolments_course' })
  course?: unknown;

  @VarcharColumn(20)
  status!: EnrolmentStatus;

  @Column({ type: 'integer', default: 0 })
  progressPercent!: number;

  @DateTimeColumn()
  enrolledAt!: Date;

  @DateTimeColumn()
  lastActivityAt!: Date;

  @DateTimeColumn({ nullable: true })
  withdrawnAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  completedAt!: Date | null;

  /** When the learner was last reminded about this idle course (see the notifications module). */
  @DateTimeColumn({ nullable: true })
  nudgedAt!: Date | null;

  /** Set when the `course.completed` job has run; a completed enrolment without it is re-enqueued by a sweep. */
  @DateTimeColumn({ nullable: true })
  completionRecordedAt!: Date | null;
}
