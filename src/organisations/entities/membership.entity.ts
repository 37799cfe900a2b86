import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { MembershipStatus } from '../organisation-kinds';
import { Organisation } from './organisation.entity';

/**
 * A person's tie to an organisation. One row per person and organisation, reused when they join again. While it is
 * `active`, the organisation's managers see the person's learning; `isManager` makes them one of those managers.
 */
@Entity('organisation_memberships')
@Index('uq_memberships_organisation_user', ['organisationId', 'userId'], { unique: true })
@Index('idx_memberships_user_status', ['userId', 'status'])
@Index('idx_memberships_organisation_status', ['organisationId', 'status', 'userId'])
export class Membership {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne(() => Organisation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_memberships_organisation' })
  organisation?: Organisation;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_memberships_user' })
  user?: unknown;

  @VarcharColumn(10)
  status!: MembershipStatus;

  @Column({ type: 'boolean', default: false })
  isManager!: boolean;

  /** When they asked to join (or were added). */
  @DateTimeColumn()
  requestedAt!: Date;

  /** When the membership last became active: the start of "days after joining" for required learning. */
  @DateTimeColumn({ nullable: true })
  joinedAt!: Date | null;

  /** When it last changed state (left, declined, approved). */
  @DateTimeColumn()
  updatedAt!: Date;

  /** The manager or administrator who approved or declined it, if one did. */
  @Column({ type: 'integer', nullable: true })
  decidedById!: number | null;
}
