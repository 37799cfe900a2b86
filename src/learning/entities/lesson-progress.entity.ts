import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../../database/columns';
import { Enrolment } from './enrolment.entity';

/**
 * A learner's progress in one lesson: keyed by (enrolment, lesson), so one row per lesson however often it is
 * written. For video, `watchedIntervals` holds the merged seconds actually covered, as JSON [[from, to], …].
 */
@Entity('lesson_progress')
@Index('idx_lesson_progress_lesson', ['lessonId'])
@Index('idx_lesson_progress_updated', ['updatedAt', 'enrolmentId'])
export class LessonProgress {
  @PrimaryColumn({ type: 'integer' })
  enrolmentId!: number;

  @ManyToOne(() => Enrolment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'enrolment_id', foreignKeyConstraintName: 'fk_lesson_progress_enrolment' })
  enrolment?: Enrolment;

  @PrimaryColumn({ type: 'integer' })
  lessonId!: number;

  @ManyToOne('Lesson', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'lesson_id', foreignKeyConstraintName: 'fk_lesson_progress_lesson' })
  lesson?: unknown;

  @Column({ type: 'integer', default: 0 })
  positionSeconds!: number;

  @Column({ type: 'integer', default: 0 })
  coveredSeconds!: number;

  @Column({ type: 'text', nullable: true })
  watchedIntervals!: string | null;

  @DateTimeColumn({ nullable: true })
  completedAt!: Date | null;

  /** New coverage is paid from this allowance, topped up with real time (see coverage.ts). */
  @Column({ type: 'integer', default: 0 })
  watchAllowanceMs!: number;

  /** When the allowance was last topped up; null before the first heartbeat. */
  @DateTimeColumn({ nullable: true })
  heartbeatAt!: Date | null;

  @DateTimeColumn()
  updatedAt!: Date;
}
