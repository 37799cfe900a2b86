import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { Organisation } from './organisation.entity';
import { RequirementJobRole } from './requirement-job-role.entity';
import { RequirementPerson } from './requirement-person.entity';

export const AUDIENCES = ['everyone', 'job_roles', 'people'] as const;
export type Audience = (typeof AUDIENCES)[number];
export const DUE_KINDS = ['days', 'date'] as const;
export type DueKind = (typeof DUE_KINDS)[number];

/**
 * A course an organisation requires of some of its staff: everyone, some job roles or named people; due a number of
 * days after joining (or after the requirement was set, whichever is later) or by a fixed date; renewed every N
 * months when set. Archived requirements are kept (their notices name them) but count no more.
 */
@Entity('organisation_requirements')
@Index('idx_requirements_organisation', ['organisationId', 'archivedAt'])
@Index('idx_requirements_live', ['archivedAt', 'organisationId'])
@Index('idx_requirements_course', ['courseId'])
@Index('idx_requirements_created_by', ['createdById'])
export class OrganisationRequirement {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne(() => Organisation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_requirements_organisation' })
  organisation?: Organisation;

  @Column({ type: 'integer' })
  courseId!: number;

  @ManyToOne('Course', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'course_id', foreignKeyConstraintName: 'fk_requirements_course' })
  course?: unknown;

  @VarcharColumn(10)
  audience!: Audience;

  @VarcharColumn(5)
  dueKind!: DueKind;

  /** With dueKind `days`: days after joining (or after the requirement was set, whichever is later). */
  @Column({ type: 'integer', nullable: true })
  dueDays!: number | null;

  /** With dueKind `date`: the London calendar day, "YYYY-MM-DD". */
  @VarcharColumn(10, { nullable: true })
  dueDate!: string | null;

  /** A certificate counts this many months after it was achieved; null: for ever. */
  @Column({ type: 'integer', nullable: true })
  renewalMonths!: number | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id', foreignKeyConstraintName: 'fk_requirements_created_by' })
  createdBy?: unknown;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;

  @DateTimeColumn({ nullable: true })
  archivedAt!: Date | null;

  @OneToMany(() => RequirementJobRole, (r) => r.requirement)
  jobRoles?: RequirementJobRole[];

  @OneToMany(() => RequirementPerson, (p) => p.requirement)
  people?: RequirementPerson[];
}
