import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { User } from './user.entity';

/** A signed-in browser, when sessions live in the database (no REDIS_URL). The id is the SHA-256 of the cookie value. */
@Entity('sessions')
@Index('idx_sessions_user', ['userId'])
@Index('idx_sessions_expires', ['expiresAt'])
export class SessionRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_sessions_user' })
  user?: User;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  expiresAt!: Date;

  @VarcharColumn(255, { nullable: true })
  userAgent!: string | null;
}
