import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { OrganisationStatus, OrganisationType, Region } from '../organisation-kinds';

@Entity('organisations')
@Index('uq_organisations_name_key', ['nameKey'], { unique: true })
@Index('uq_organisations_ods_code', ['odsCode'], { unique: true })
@Index('idx_organisations_status_name', ['status', 'nameKey'])
export class Organisation {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(150)
  name!: string;

  /** Lower-cased, space-collapsed name: "NHS  Leeds" and "nhs leeds" are one organisation. */
  @VarcharColumn(150)
  nameKey!: string;

  @VarcharColumn(20, { default: 'other' })
  type!: OrganisationType;

  /** Upper-cased ODS code (see normaliseOdsCode); unique when present. */
  @VarcharColumn(6, { nullable: true })
  odsCode!: string | null;

  @VarcharColumn(30, { nullable: true })
  region!: Region | null;

  @VarcharColumn(12, { default: 'active' })
  status!: OrganisationStatus;

  /** Set when status is `merged`: the organisation that took over its members. */
  @Column({ type: 'integer', nullable: true })
  mergedIntoId!: number | null;

  /** Who asked for it at sign-up (status `requested`), for the administrator deciding. */
  @Column({ type: 'integer', nullable: true })
  requestedById!: number | null;

  @DateTimeColumn()
  createdAt!: Date;
}

export const organisationNameKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();
export const tidyOrganisationName = (name: string) => name.trim().replace(/\s+/g, ' ');
