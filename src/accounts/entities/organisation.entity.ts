import { Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

@Entity('organisations')
@Index('uq_organisations_name_key', ['nameKey'], { unique: true })
export class Organisation {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(150)
  name!: string;

  /** Lower-cased, space-collapsed name: "NHS  Leeds" and "nhs leeds" are one organisation. */
  @VarcharColumn(150)
  nameKey!: string;

  @DateTimeColumn()
  createdAt!: Date;
}

export const organisationNameKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();
