import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { NoticeStage } from '../compliance-rules';

/**
 * One e-mail to one person about one requirement: `due_soon` or `overdue`, for one due date. The unique index is what
 * makes each go once per stage per due date, whichever worker gets there first; the e-mail's outbox row is written in
 * the same transaction, keyed by this row.
 */
@Entity('requirement_notices')
@Index('uq_requirement_notices', ['requirementId', 'userId', 'stage', 'dueDate'], { unique: true })
@Index('idx_requirement_notices_user', ['userId'])
export class RequirementNotice {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  requirementId!: number;

  @ManyToOne('OrganisationRequirement', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'requirement_id', foreignKeyConstraintName: 'fk_requirement_notices_requirement' })
  requirement?: unknown;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_requirement_notices_user' })
  user?: unknown;

  @VarcharColumn(10)
  stage!: NoticeStage;

  /** The London calendar day the notice is about, "YYYY-MM-DD". */
  @VarcharColumn(10)
  dueDate!: string;

  @DateTimeColumn()
  createdAt!: Date;
}
