import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { VarcharColumn } from '../../database/columns';
import { CourseModule } from './course-module.entity';
import { Course } from './course.entity';

export const LESSON_KINDS = ['text', 'video', 'quiz', 'resource'] as const;
export type LessonKind = (typeof LESSON_KINDS)[number];

/**
 * One lesson. Kind-specific fields are nullable columns on the one table (a lesson list is read far more
 * than written, and one row per lesson keeps the syllabus a single indexed query).
 */
@Entity('lessons')
@Index('idx_lessons_module', ['moduleId', 'position'])
@Index('idx_lessons_course', ['courseId'])
export class Lesson {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  moduleId!: number;

  @ManyToOne(() => CourseModule, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'module_id', foreignKeyConstraintName: 'fk_lessons_module' })
  module?: CourseModule;

  /** The module's course, kept here so progress and completion checks need no join. */
  @Column({ type: 'integer' })
  courseId!: number;

  @ManyToOne(() => Course, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'course_id', foreignKeyConstraintName: 'fk_lessons_course' })
  course?: Course;

  @Column({ type: 'integer' })
  position!: number;

  @VarcharColumn(20)
  kind!: LessonKind;

  @VarcharColumn(120)
  title!: string;

  @Column({ type: 'integer' })
  minutes!: number;

  @Column({ type: 'boolean', default: true })
  required!: boolean;

  /** Markdown: the text of a text lesson, or the introduction of the others. */
  @Column({ type: 'text' })
  body!: string;

  /** Storage key of the video or resource file. */
  @VarcharColumn(255, { nullable: true })
  fileKey!: string | null;

  /** The name a resource downloads as. */
  @VarcharColumn(160, { nullable: true })
  fileName!: string | null;

  @VarcharColumn(120, { nullable: true })
  fileType!: string | null;

  /** Storage key of a video's captions (WebVTT). */
  @VarcharColumn(255, { nullable: true })
  captionsKey!: string | null;

  @Column({ type: 'integer', nullable: true })
  videoSeconds!: number | null;

  /** Percent of marks needed to pass a quiz. */
  @Column({ type: 'integer', nullable: true })
  passMark!: number | null;
}
