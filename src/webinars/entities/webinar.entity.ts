import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

/**
 * What an author sets: draft (only they see it), scheduled (published), cancelled. Whether a scheduled
 * webinar is live or ended follows from the clock (see `webinarPhase`), so it can never be left "live".
 */
export type WebinarStatus = 'draft' | 'scheduled' | 'cancelled';

@Entity('webinars')
@Index('uq_webinars_slug', ['slug'], { unique: true })
@Index('idx_webinars_status_starts', ['status', 'startsAt'])
@Index('idx_webinars_topic', ['topicId'])
@Index('idx_webinars_author', ['authorId'])
export class Webinar {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(120)
  slug!: string;

  @VarcharColumn(160)
  title!: string;

  @VarcharColumn(300)
  summary!: string;

  /** Markdown, sanitised when rendered. */
  @Column({ type: 'text' })
  description!: string;

  /** One presenter per line: "Name, role and organisation". */
  @Column({ type: 'text' })
  presenters!: string;

  @Column({ type: 'integer', nullable: true })
  topicId!: number | null;

  @ManyToOne('Topic', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'topic_id', foreignKeyConstraintName: 'fk_webinars_topic' })
  topic?: unknown;

  /** UTC; shown in Europe/London. */
  @DateTimeColumn()
  startsAt!: Date;

  @Column({ type: 'integer' })
  durationMinutes!: number;

  @Column({ type: 'integer' })
  capacity!: number;

  /** The external meeting (Teams, Zoom…), shown to registrants in the join window. */
  @VarcharColumn(500, { nullable: true })
  joinUrl!: string | null;

  /** A live stream page, as an alternative or addition to the meeting. */
  @VarcharColumn(500, { nullable: true })
  streamUrl!: string | null;

  @VarcharColumn(20)
  status!: WebinarStatus;

  @Column({ type: 'integer' })
  cpdMinutes!: number;

  /** Minutes of live attendance that earn the certificate of attendance. */
  @Column({ type: 'integer' })
  minAttendanceMinutes!: number;

  /** An uploaded recording in storage (played and tracked here)… */
  @VarcharColumn(255, { nullable: true })
  recordingKey!: string | null;

  @VarcharColumn(100, { nullable: true })
  recordingType!: string | null;

  @Column({ type: 'integer', nullable: true })
  recordingSeconds!: number | null;

  /** WebVTT captions of the uploaded recording. */
  @VarcharColumn(255, { nullable: true })
  recordingCaptionsKey!: string | null;

  /** …or a link to one elsewhere. */
  @VarcharColumn(500, { nullable: true })
  recordingUrl!: string | null;

  @DateTimeColumn({ nullable: true })
  recordingAddedAt!: Date | null;

  /** The iCalendar SEQUENCE: raised by every change registrants are told about. */
  @Column({ type: 'integer', default: 0 })
  sequence!: number;

  @Column({ type: 'text', nullable: true })
  cancelReason!: string | null;

  @DateTimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  @Column({ type: 'integer' })
  authorId!: number;

  @ManyToOne('User', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_webinars_author' })
  author?: unknown;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}
