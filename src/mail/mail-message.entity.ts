import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../database/columns';

export type MailStatus = 'pending' | 'sent' | 'failed';

/**
 * The mail outbox: a message is a row first (written with the change that causes it), delivered by a job after.
 * `dedupeKey` makes "send this once" a unique constraint, not a hope.
 */
@Entity('mail_messages')
@Index('uq_mail_messages_dedupe', ['dedupeKey'], { unique: true })
@Index('idx_mail_messages_status', ['status', 'createdAt'])
@Index('idx_mail_messages_to', ['toAddress'])
export class MailMessage {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(191)
  dedupeKey!: string;

  @VarcharColumn(254)
  toAddress!: string;

  @VarcharColumn(100)
  template!: string;

  /** JSON of the template's data. */
  @Column({ type: 'text' })
  payload!: string;

  @VarcharColumn(20)
  status!: MailStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @VarcharColumn(500, { nullable: true })
  lastError!: string | null;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn({ nullable: true })
  sentAt!: Date | null;

  /** While a job is delivering the message: no other job or sweep may take it before then. */
  @DateTimeColumn({ nullable: true })
  lockedUntil!: Date | null;
}
