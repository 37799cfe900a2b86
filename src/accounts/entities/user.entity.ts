import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { Role } from '../roles';
import { Organisation } from './organisation.entity';

@Entity('users')
@Index('uq_users_email', ['email'], { unique: true })
@Index('idx_users_organisation', ['organisationId'])
export class User {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** Stored lower-cased: e-mail addresses are matched without regard to case. */
  @VarcharColumn(254)
  email!: string;

  @VarcharColumn(120)
  name!: string;

  @VarcharColumn(255)
  passwordHash!: string;

  @VarcharColumn(20)
  role!: Role;

  @Column({ type: 'integer', nullable: true })
  organisationId!: number | null;

  @ManyToOne(() => Organisation, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_users_organisation' })
  organisation?: Organisation | null;

  @VarcharColumn(120)
  jobRole!: string;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn({ nullable: true })
  lastSignInAt!: Date | null;
}
