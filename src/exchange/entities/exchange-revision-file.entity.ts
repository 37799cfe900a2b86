import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ExchangeFile } from './exchange-file.entity';
import { ExchangeRevision } from './exchange-revision.entity';

/** An attachment a revision includes; a new revision starts with the previous one's. */
@Entity('exchange_revision_files')
@Index('uq_exchange_revision_files', ['revisionId', 'fileId'], { unique: true })
@Index('idx_exchange_revision_files_file', ['fileId'])
export class ExchangeRevisionFile {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  revisionId!: number;

  @ManyToOne(() => ExchangeRevision, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'revision_id', foreignKeyConstraintName: 'fk_exchange_revision_files_revision' })
  revision?: ExchangeRevision;

  @Column({ type: 'integer' })
  fileId!: number;

  @ManyToOne(() => ExchangeFile, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_id', foreignKeyConstraintName: 'fk_exchange_revision_files_file' })
  file?: ExchangeFile;

  /** Order on the page. */
  @Column({ type: 'integer', default: 0 })
  position!: number;
}
