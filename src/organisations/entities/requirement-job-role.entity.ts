import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { VarcharColumn } from '../../database/columns';
import type { OrganisationRequirement } from './requirement.entity';

/** A job role a requirement (audience `job_roles`) applies to, as staff wrote it on their accounts. */
@Entity('requirement_job_roles')
@Index('uq_requirement_job_roles', ['requirementId', 'jobRole'], { unique: true })
export class RequirementJobRole {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  requirementId!: number;

  @ManyToOne('OrganisationRequirement', 'jobRoles', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'requirement_id', foreignKeyConstraintName: 'fk_requirement_job_roles_requirement' })
  requirement?: OrganisationRequirement;

  @VarcharColumn(120)
  jobRole!: string;
}
