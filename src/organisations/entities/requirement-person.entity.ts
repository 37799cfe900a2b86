import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn } from '../../database/columns';
import type { OrganisationRequirement } from './requirement.entity';

/** A person a requirement (audience `people`) names. When they were named counts as when it was set, for them. */
@Entity('requirement_people')
@Index('uq_requirement_people', ['requirementId', 'userId'], { unique: true })
@Index('idx_requirement_people_user', ['userId'])
export class RequirementPerson {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  requirementId!: number;

  @ManyToOne('OrganisationRequirement', 'people', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'requirement_id', foreignKeyConstraintName: 'fk_requirement_people_requirement' })
  requirement?: OrganisationRequirement;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_requirement_people_user' })
  user?: unknown;

  @DateTimeColumn()
  addedAt!: Date;
}
