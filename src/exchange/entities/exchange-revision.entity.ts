import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import type { CareSetting, RevisionStatus, ToolLicence, ToolType } from '../exchange-kinds';
import { ExchangeItem } from './exchange-item.entity';

/**
 * One version of what an item says. A new item starts with revision 1; editing a published item starts the next one,
 * reviewed on its own while the published revision stays up. The Markdown sections used depend on the kind:
 * a case study uses context … differently, a tool purpose and howToUse, a hack tip.
 */
@Entity('exchange_revisions')
@Index('uq_exchange_revisions_item_number', ['itemId', 'number'], { unique: true })
@Index('idx_exchange_revisions_queue', ['status', 'submittedAt'])
export class ExchangeRevision {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_revisions_item' })
  item?: ExchangeItem;

  /** 1, 2, 3 … within the item. */
  @Column({ type: 'integer' })
  number!: number;

  @VarcharColumn(12)
  status!: RevisionStatus;

  /** Who wrote this revision; null once their account is deleted. */
  @Column({ type: 'integer', nullable: true })
  authorId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_exchange_revisions_author' })
  author?: unknown;

  @VarcharColumn(200)
  title!: string;

  @VarcharColumn(600, { default: '' })
  summary!: string;

  @VarcharColumn(20, { nullable: true })
  careSetting!: CareSetting | null;

  /** Case study: the context and the problem (Markdown). */
  @Column({ type: 'text', nullable: true })
  context!: string | null;

  /** Case study: what was done. */
  @Column({ type: 'text', nullable: true })
  actions!: string | null;

  /** Case study: the results, with figures where there are any. */
  @Column({ type: 'text', nullable: true })
  results!: string | null;

  /**
   * Case study: the results as figures, JSON `[{ "label": "Discharge letters sent within 24 hours", "before": 61,
   * "after": 94, "unit": "%" }]`, drawn as a chart beside the text. Null when there are none.
   */
  @Column({ type: 'text', nullable: true })
  keyFigures!: string | null;

  /** Case study: lessons learnt. */
  @Column({ type: 'text', nullable: true })
  lessons!: string | null;

  /** Case study: what they would do differently. */
  @Column({ type: 'text', nullable: true })
  differently!: string | null;

  /** Tool: what it is for. */
  @Column({ type: 'text', nullable: true })
  purpose!: string | null;

  /** Tool: how to use it. */
  @Column({ type: 'text', nullable: true })
  howToUse!: string | null;

  @VarcharColumn(12, { nullable: true })
  toolType!: ToolType | null;

  @VarcharColumn(24, { nullable: true })
  licence!: ToolLicence | null;

  /** Tool: the file version this revision offers (an exchange_files row with role `tool`). */
  @Column({ type: 'integer', nullable: true })
  toolFileId!: number | null;

  /** Hack: the tip itself, at most HACK_MAX_CHARACTERS. */
  @Column({ type: 'text', nullable: true })
  tip!: string | null;

  /** JSON arrays of ids: the topics, the systems (exchange_systems) and any partner organisations besides the item's own. */
  @Column({ type: 'text', nullable: true })
  topicIds!: string | null;

  @Column({ type: 'text', nullable: true })
  systemIds!: string | null;

  @Column({ type: 'text', nullable: true })
  partnerOrganisationIds!: string | null;

  /** For revisions after the first: what changed, in the author's words. */
  @VarcharColumn(500, { nullable: true })
  changeNote!: string | null;

  @DateTimeColumn({ nullable: true })
  submittedAt!: Date | null;

  /** When a moderator published or returned it, and who. */
  @DateTimeColumn({ nullable: true })
  decidedAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  decidedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'decided_by_id', foreignKeyConstraintName: 'fk_exchange_revisions_decided_by' })
  decidedBy?: unknown;

  /** The moderator's feedback when they returned it (Markdown), shown to the author. */
  @Column({ type: 'text', nullable: true })
  feedback!: string | null;

  /** The checklist boxes the moderator ticked, comma-separated REVIEW_CHECKS codes. */
  @VarcharColumn(200, { nullable: true })
  checklist!: string | null;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}
