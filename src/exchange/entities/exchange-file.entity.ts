import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { ExchangeItem } from './exchange-item.entity';

/** `attachment`: a case study's (or hack's) supporting file; `tool`: one version of a tool's file, each kept. */
export type ExchangeFileRole = 'attachment' | 'tool';

/** A file uploaded to an item, in storage under `exchange/{itemId}/…`. Revisions list the ones they include. */
@Entity('exchange_files')
@Index('idx_exchange_files_item_role', ['itemId', 'role', 'version'])
@Index('idx_exchange_files_uploaded_by', ['uploadedById'])
export class ExchangeFile {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ExchangeItem, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_exchange_files_item' })
  item?: ExchangeItem;

  @VarcharColumn(12)
  role!: ExchangeFileRole;

  /** For a tool's file: 1, 2, 3 … in the order uploaded. Null for attachments. */
  @Column({ type: 'integer', nullable: true })
  version!: number | null;

  @VarcharColumn(255)
  storageKey!: string;

  /** The name it downloads as (safeFileName). */
  @VarcharColumn(160)
  fileName!: string;

  @VarcharColumn(100)
  contentType!: string;

  @Column({ type: 'integer' })
  bytes!: number;

  @VarcharColumn(64)
  sha256!: string;

  @Column({ type: 'integer', nullable: true })
  uploadedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'uploaded_by_id', foreignKeyConstraintName: 'fk_exchange_files_uploaded_by' })
  uploadedBy?: unknown;

  @Column({ type: 'integer', default: 0 })
  downloadCount!: number;

  @DateTimeColumn()
  createdAt!: Date;
}
