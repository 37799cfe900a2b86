import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { User } from './user.entity';

/** A single-use, expiring password-reset link. Only the SHA-256 of the secret in the link is stored. */
@Entity('password_resets')
@Index('uq_password_resets_hash', ['tokenHash'], { unique: true })
@Index('idx_password_resets_user', ['userId'])
export class PasswordReset {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_password_resets_user' })
  user?: User;

  @VarcharColumn(64)
  tokenHash!: string;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  expiresAt!: Date;

  @DateTimeColumn({ nullable: true })
  usedAt!: Date | null;
}
