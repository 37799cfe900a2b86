import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { CareSetting, ExchangeKind, ItemStatus } from '../exchange-kinds';

/**
 * One contribution to the exchange: a case study, a tool or a hack. What people write lives in its revisions; the
 * columns from `title` down to `searchText` are the published revision's projection (see search-projection.ts), the
 * one row that search, facets and sorting read, so a search never joins the revisions. They are empty until the item
 * is first published and change only when a newer revision is.
 */
@Entity('exchange_items')
@Index('uq_exchange_items_slug', ['slug'], { unique: true })
@Index('idx_exchange_items_status_published', ['status', 'publishedAt'])
@Index('idx_exchange_items_status_adopted', ['status', 'adoptionCount', 'publishedAt'])
@Index('idx_exchange_items_status_helpful', ['status', 'helpfulCount', 'publishedAt'])
@Index('idx_exchange_items_kind_status', ['kind', 'status', 'publishedAt'])
@Index('idx_exchange_items_care_setting', ['careSetting', 'status'])
@Index('idx_exchange_items_author', ['authorId', 'status'])
@Index('idx_exchange_items_organisation', ['organisationId', 'status'])
@Index('idx_exchange_items_review_due', ['status', 'reviewDueAt'])
// Every facet column, counter and last change of the published items, so search reads them without the rows (migration 1765230000000).
@Index('idx_exchange_items_search_list', ['status', 'kind', 'careSetting', 'publishedAt', 'helpfulCount', 'adoptionCount', 'updatedAt'])
// InnoDB FULLTEXT over the searchable text, made by the migration on MySQL only; on SQLite an FTS5 table kept in step
// by triggers does the same (see migrations/1765200000000-peer-exchange.ts and common/full-text.ts).
@Index('ft_exchange_items_search', { synchronize: false })
export class ExchangeItem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** The public address: /exchange/{slug}. Chosen when the item is created and never changed. */
  @VarcharColumn(120)
  slug!: string;

  @VarcharColumn(12)
  kind!: ExchangeKind;

  @VarcharColumn(12)
  status!: ItemStatus;

  /** Who created it; null once their account is deleted (the item stays, as its organisation's). */
  @Column({ type: 'integer', nullable: true })
  authorId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_exchange_items_author' })
  author?: unknown;

  /** The organisation that shares it (the author was an active member of it when they created the item). */
  @Column({ type: 'integer' })
  organisationId!: number;

  @ManyToOne('Organisation', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'fk_exchange_items_organisation' })
  organisation?: unknown;

  /** The revision the public sees; null until first published. */
  @Column({ type: 'integer', nullable: true })
  publishedRevisionId!: number | null;

  /** The newest revision: the published one, or a newer one being written or reviewed. */
  @Column({ type: 'integer', nullable: true })
  latestRevisionId!: number | null;

  // The published revision's projection, for search, facets and lists.

  @VarcharColumn(200, { default: '' })
  title!: string;

  @VarcharColumn(600, { default: '' })
  summary!: string;

  @VarcharColumn(20, { nullable: true })
  careSetting!: CareSetting | null;

  /** Every other searchable word of the published revision (its sections, systems, suppliers, topics, organisations). */
  @Column({ type: 'text', nullable: true })
  searchText!: string | null;

  /** When the revision now public was published. */
  @DateTimeColumn({ nullable: true })
  publishedAt!: Date | null;

  @DateTimeColumn({ nullable: true })
  firstPublishedAt!: Date | null;

  /** When its author is next asked to confirm it is still right; past it, the item shows it may be out of date. */
  @DateTimeColumn({ nullable: true })
  reviewDueAt!: Date | null;

  /** When the author was asked (by e-mail) for the review due at `reviewDueAt`; cleared when they confirm or update. */
  @DateTimeColumn({ nullable: true })
  reviewRequestedAt!: Date | null;

  // Counters of the peer signals, kept in step with their rows in the same transaction, for sorting without a join.

  @Column({ type: 'integer', default: 0 })
  helpfulCount!: number;

  @Column({ type: 'integer', default: 0 })
  adoptionCount!: number;

  @Column({ type: 'integer', default: 0 })
  saveCount!: number;

  @Column({ type: 'integer', default: 0 })
  downloadCount!: number;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}
