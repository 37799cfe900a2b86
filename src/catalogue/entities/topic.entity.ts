import { Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { VarcharColumn } from '../../database/columns';

@Entity('topics')
@Index('uq_topics_slug', ['slug'], { unique: true })
export class Topic {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(80)
  slug!: string;

  @VarcharColumn(80)
  name!: string;
}
