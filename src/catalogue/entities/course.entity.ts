import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { Topic } from './topic.entity';

export const COURSE_LEVELS = ['introductory', 'intermediate', 'advanced'] as const;
export type CourseLevel = (typeof COURSE_LEVELS)[number];
export const COURSE_STATUSES = ['draft', 'published', 'archived'] as const;
export type CourseStatus = (typeof COURSE_STATUSES)[number];

/**
 * A short course. Its length and CPD time are kept in whole minutes (exact on every engine; shown as hours).
 * `enrolmentCount` is maintained with each enrolment so "most popular" sorts without counting rows.
 */
@Entity('courses')
@Index('uq_courses_slug', ['slug'], { unique: true })
@Index('idx_courses_status_published', ['status', 'publishedAt'])
@Index('idx_courses_status_minutes', ['status', 'estimatedMinutes'])
@Index('idx_courses_status_popular', ['status', 'enrolmentCount'])
@Index('idx_courses_topic', ['topicId'])
@Index('idx_courses_author', ['authorId'])
export class Course {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(120)
  slug!: string;

  @VarcharColumn(120)
  title!: string;

  @VarcharColumn(300)
  summary!: string;

  /** Markdown, rendered sanitised. */
  @Column({ type: 'text' })
  description!: string;

  @Column({ type: 'text' })
  whoFor!: string;

  @VarcharColumn(20)
  level!: CourseLevel;

  @Column({ type: 'integer' })
  estimatedMinutes!: number;

  @Column({ type: 'integer' })
  cpdMinutes!: number;

  @VarcharColumn(255, { nullable: true })
  coverImage!: string | null;

  @VarcharColumn(20)
  status!: CourseStatus;

  @Column({ type: 'integer' })
  topicId!: number;

  @ManyToOne(() => Topic, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'topic_id', foreignKeyConstraintName: 'fk_courses_topic' })
  topic?: Topic;

  @Column({ type: 'integer' })
  authorId!: number;

  // By entity name, not class: the catalogue does not import the accounts module's entities.
  @ManyToOne('User', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_courses_author' })
  author?: unknown;

  @Column({ type: 'integer', default: 0 })
  enrolmentCount!: number;

  @DateTimeColumn({ nullable: true })
  publishedAt!: Date | null;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}
