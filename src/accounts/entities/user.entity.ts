import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { Role } from '../roles';

@Entity('users')
@Index('uq_users_email', ['email'], { unique: true })
@Index('idx_users_organisation', ['organisationId'])
@Index('idx_users_name', ['name'])
@Index('idx_users_role', ['role', 'deactivatedAt'])
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

  /** The organisation they said they work for at sign-up; what managers see is decided by memberships. */
  @ManyToOne('Organisation', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_users_organisation' })
  organisation?: { id: number; name: string } | null;

  @VarcharColumn(120)
  jobRole!: string;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn({ nullable: true })
  lastSignInAt!: Date | null;

  /** When they opened the signed link sent to their address; until then they belong to no organisation. */
  @DateTimeColumn({ nullable: true })
  emailVerifiedAt!: Date | null;

  /** Set by an administrator: the account cannot sign in, and its sessions and tokens were ended. */
  @DateTimeColumn({ nullable: true })
  deactivatedAt!: Date | null;
}
