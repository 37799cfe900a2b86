import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

export type QuestionStatus = 'open' | 'answered' | 'hidden';

/** A registrant's question during a webinar, plain text (escaped when shown), upvoted by others. */
@Entity('webinar_questions')
@Index('idx_webinar_questions_webinar', ['webinarId', 'status', 'votes'])
export class WebinarQuestion {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  webinarId!: number;

  @ManyToOne('Webinar', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webinar_id', foreignKeyConstraintName: 'fk_webinar_questions_webinar' })
  webinar?: unknown;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_webinar_questions_user' })
  user?: unknown;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'integer', default: 0 })
  votes!: number;

  @VarcharColumn(20)
  status!: QuestionStatus;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn({ nullable: true })
  answeredAt!: Date | null;
}

/** One vote per learner and question: the primary key refuses a second. */
@Entity('webinar_question_votes')
@Index('idx_webinar_question_votes_user', ['userId'])
export class WebinarQuestionVote {
  @PrimaryColumn({ type: 'integer' })
  questionId!: number;

  @ManyToOne('WebinarQuestion', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'question_id', foreignKeyConstraintName: 'fk_webinar_question_votes_question' })
  question?: unknown;

  @PrimaryColumn({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_webinar_question_votes_user' })
  user?: unknown;

  @DateTimeColumn()
  createdAt!: Date;
}
