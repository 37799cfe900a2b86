import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { VarcharColumn } from '../../database/columns';
import { Course } from './course.entity';

/** A titled, ordered group of lessons within a course. */
@Entity('course_modules')
@Index('idx_course_modules_course', ['courseId', 'position'])
export class CourseModule {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  courseId!: number;

  @ManyToOne(() => Course, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'course_id', foreignKeyConstraintName: 'fk_course_modules_course' })
  course?: Course;

  @Column({ type: 'integer' })
  position!: number;

  @VarcharColumn(120)
  title!: string;
}
