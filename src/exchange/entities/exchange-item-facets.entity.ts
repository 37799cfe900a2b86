import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ExchangeItem } from './exchange-item.entity';
import { ExchangeSystem } from './exchange-system.entity';

/*
 * The published revision's topics, systems and organisations, one row each, for the facets and for "related" lists.
 * Written by the search projection when a revision is published, never by hand.
 */

@Entity('exchange_item_topics')
@Index('uq_exchange_item_topics', ['itemId', 'topicId'], { unique: true })
@Index('idx_exchange_item_topics_topic', ['topicId', 'itemId'])
export class ExchangeItemTopic {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_item_topics_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  topicId!: number;

  @ManyToOne('Topic', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'topic_id', foreignKeyConstraintName: 'fk_exchange_item_topics_topic' })
  topic?: unknown;
}

@Entity('exchange_item_systems')
@Index('uq_exchange_item_systems', ['itemId', 'systemId'], { unique: true })
@Index('idx_exchange_item_systems_system', ['systemId', 'itemId'])
export class ExchangeItemSystem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_item_systems_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  systemId!: number;

  @ManyToOne(() => ExchangeSystem, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'system_id', foreignKeyConstraintName: 'fk_exchange_item_systems_system' })
  system?: ExchangeSystem;
}

/** The item's own organisation (isLead) and its partners: the organisation-type and region facets read these. */
@Entity('exchange_item_organisations')
@Index('uq_exchange_item_organisations', ['itemId', 'organisationId'], { unique: true })
@Index('idx_exchange_item_organisations_organisation', ['organisationId', 'itemId'])
export class ExchangeItemOrganisation {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_item_organisations_item' })
  item?: ExchangeItem;

  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne('Organisation', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_exchange_item_organisations_organisation' })
  organisation?: unknown;

  @Column({ type: 'boolean', default: false })
  isLead!: boolean;
}
