import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { ExchangeItem } from './exchange-item.entity';

/* The peer signals on an item. Each is unique per person (or organisation) and item, so saying it twice is one. */

/** "Helpful": one per person and item. */
@Entity('exchange_helpful_votes')
@Index('uq_exchange_helpful_votes', ['itemId', 'userId'], { unique: true })
@Index('idx_exchange_helpful_votes_user', ['userId'])
export class ExchangeHelpfulVote {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_helpful_votes_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_exchange_helpful_votes_user' })
  user?: unknown;

  @DateTimeColumn()
  createdAt!: Date;
}

/** "My saved": one per person and item. */
@Entity('exchange_saves')
@Index('uq_exchange_saves', ['itemId', 'userId'], { unique: true })
@Index('idx_exchange_saves_user', ['userId', 'createdAt'])
export class ExchangeSave {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_saves_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_exchange_saves_user' })
  user?: unknown;

  @DateTimeColumn()
  createdAt!: Date;
}

/** "We've adopted this": one per organisation and item, recorded by one of its active members. */
@Entity('exchange_adoptions')
@Index('uq_exchange_adoptions', ['itemId', 'organisationId'], { unique: true })
@Index('idx_exchange_adoptions_organisation', ['organisationId', 'createdAt'])
@Index('idx_exchange_adoptions_recorded_by', ['recordedById'])
export class ExchangeAdoption {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_adoptions_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne('Organisation', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_exchange_adoptions_organisation' })
  organisation?: unknown;

  /** The member who said so; null once their account is deleted (the organisation's adoption stands). */
  @Column({ type: 'integer', nullable: true })
  recordedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'recorded_by_id', foreignKeyConstraintName: 'fk_exchange_adoptions_recorded_by' })
  recordedBy?: unknown;

  /** How they used it, optionally ("Adapted for community nursing"). */
  @VarcharColumn(500, { nullable: true })
  note!: string | null;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}
