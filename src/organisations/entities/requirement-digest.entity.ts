import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

/** The weekly compliance digest sent to one manager in one ISO week (Europe/London): one row, one e-mail, ever. */
@Entity('requirement_digests')
@Index('uq_requirement_digests', ['managerId', 'isoWeek'], { unique: true })
export class RequirementDigest {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  managerId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'manager_id', foreignKeyConstraintName: 'fk_requirement_digests_manager' })
  manager?: unknown;

  /** "2026-W48" */
  @VarcharColumn(8)
  isoWeek!: string;

  @DateTimeColumn()
  createdAt!: Date;
}
