import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { SystemCategory } from '../exchange-kinds';

/**
 * A system and its supplier on the list moderators keep ("Oracle Health Millennium", Oracle Health), so contributions
 * and peer profiles name systems the same way and "which trusts run this EPR?" has an answer.
 */
@Entity('exchange_systems')
@Index('uq_exchange_systems_slug', ['slug'], { unique: true })
@Index('idx_exchange_systems_name', ['name'])
export class ExchangeSystem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** From supplier and name; in facet URLs (?system=…). */
  @VarcharColumn(120)
  slug!: string;

  @VarcharColumn(120)
  name!: string;

  @VarcharColumn(120)
  supplier!: string;

  @VarcharColumn(20)
  category!: SystemCategory;

  /** Retired systems stay on the items that name them but are no longer offered for new ones. */
  @DateTimeColumn({ nullable: true })
  retiredAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @DateTimeColumn()
  createdAt!: Date;
}
