import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn } from '../../database/columns';
import { Enrolment } from './enrolment.entity';

/** Every attempt at a quiz is kept, with the answers given (JSON {questionId: [optionId, …]}). */
@Entity('quiz_attempts')
@Index('idx_quiz_attempts_enrolment_lesson', ['enrolmentId', 'lessonId'])
@Index('idx_quiz_attempts_lesson', ['lessonId'])
export class QuizAttempt {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  enrolmentId!: number;

  @ManyToOne(() => Enrolment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'enrolment_id', foreignKeyConstraintName: 'fk_quiz_attempts_enrolment' })
  enrolment?: Enrolment;

  @Column({ type: 'integer' })
  lessonId!: number;

  @ManyToOne('Lesson', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'lesson_id', foreignKeyConstraintName: 'fk_quiz_attempts_lesson' })
  lesson?: unknown;

  @Column({ type: 'integer' })
  scorePercent!: number;

  @Column({ type: 'boolean' })
  passed!: boolean;

  @Column({ type: 'text' })
  answers!: string;

  @DateTimeColumn()
  createdAt!: Date;
}
