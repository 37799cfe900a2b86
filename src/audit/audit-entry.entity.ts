import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../database/columns';

/**
 * One privileged action: who did it (their id, and their name at the time, so the entry still reads when the
 * account is gone), what, to what, and when. Written in the same transaction as the change it records.
 */
@Entity('audit_log')
@Index('idx_audit_log_created', ['createdAt'])
@Index('idx_audit_log_action_created', ['action', 'createdAt'])
@Index('idx_audit_log_target', ['targetType', 'targetId'])
@Index('idx_audit_log_actor_created', ['actorId', 'createdAt'])
export class AuditEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** Null for the academy itself (a sweep, the command line). No foreign key: the log outlives accounts. */
  @Column({ type: 'integer', nullable: true })
  actorId!: number | null;

  @VarcharColumn(120)
  actorName!: string;

  /** A dotted code, such as `user.role_changed` or `organisation.merged`. */
  @VarcharColumn(60)
  action!: string;

  @VarcharColumn(30)
  targetType!: string;

  @Column({ type: 'integer', nullable: true })
  targetId!: number | null;

  /** What the target was called at the time. */
  @VarcharColumn(200)
  targetLabel!: string;

  /** JSON: what changed (before and after), never a secret. */
  @Column({ type: 'text' })
  details!: string;

  @DateTimeColumn()
  createdAt!: Date;
}
