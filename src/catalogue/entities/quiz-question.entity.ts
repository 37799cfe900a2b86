import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { VarcharColumn } from '../../database/columns';
import { Lesson } from './lesson.entity';

@Entity('quiz_questions')
@Index('idx_quiz_questions_lesson', ['lessonId', 'position'])
export class QuizQuestion {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  lessonId!: number;

  @ManyToOne(() => Lesson, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'lesson_id', foreignKeyConstraintName: 'fk_quiz_questions_lesson' })
  lesson?: Lesson;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'text' })
  prompt!: string;

  /** Choose all that apply (true) or exactly one (false). */
  @Column({ type: 'boolean', default: false })
  multiple!: boolean;

  @Column({ type: 'text' })
  explanation!: string;
}

@Entity('quiz_options')
@Index('idx_quiz_options_question', ['questionId', 'position'])
export class QuizOption {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  questionId!: number;

  @ManyToOne(() => QuizQuestion, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'question_id', foreignKeyConstraintName: 'fk_quiz_options_question' })
  question?: QuizQuestion;

  @Column({ type: 'integer' })
  position!: number;

  @VarcharColumn(500)
  text!: string;

  @Column({ type: 'boolean', default: false })
  correct!: boolean;
}
