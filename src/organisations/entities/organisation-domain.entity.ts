import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { Organisation } from './organisation.entity';

/** An e-mail domain an administrator has confirmed belongs to the organisation. One organisation per domain. */
@Entity('organisation_domains')
@Index('uq_organisation_domains_domain', ['domain'], { unique: true })
@Index('idx_organisation_domains_organisation', ['organisationId'])
export class OrganisationDomain {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne(() => Organisation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_organisation_domains_organisation' })
  organisation?: Organisation;

  /** Lower-case, as normaliseDomain gives it. */
  @VarcharColumn(253)
  domain!: string;

  @DateTimeColumn()
  createdAt!: Date;
}
