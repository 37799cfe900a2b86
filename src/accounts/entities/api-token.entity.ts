import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { User } from './user.entity';

/** A bearer token for API clients. Only its SHA-256 is stored. */
@Entity('api_tokens')
@Index('uq_api_tokens_hash', ['tokenHash'], { unique: true })
@Index('idx_api_tokens_user', ['userId'])
export class ApiToken {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_api_tokens_user' })
  user?: User;

  @VarcharColumn(64)
  tokenHash!: string;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  expiresAt!: Date;

  @DateTimeColumn({ nullable: true })
  revokedAt!: Date | null;
}
