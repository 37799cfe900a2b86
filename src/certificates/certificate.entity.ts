import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../database/columns';

export const SUBJECT_TYPES = ['course', 'webinar'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];
/** What a certificate of each subject certifies. */
export const CERTIFICATE_KIND: Record<SubjectType, 'completion' | 'attendance'> = { course: 'completion', webinar: 'attendance' };
/**
 * A certificate is inserted 'valid', its PDF already stored. 'issuing' marks rows of earlier releases, which
 * recorded the row first: a retry finishes such a row, with the same code and file.
 */
export type CertificateStatus = 'issuing' | 'valid' | 'revoked';

/**
 * A certificate: evidence that a learner completed a course (or, later, attended a webinar). What it
 * certifies is copied onto it (title, name, CPD) so it still reads the same if the course is renamed.
 */
@Entity('certificates')
@Index('uq_certificates_code', ['code'], { unique: true })
@Index('uq_certificates_holder_subject', ['userId', 'subjectType', 'subjectId', 'revision'], { unique: true })
@Index('idx_certificates_user_issued', ['userId', 'issuedAt'])
@Index('idx_certificates_user_status_issued', ['userId', 'status', 'issuedAt', 'cpdMinutes'])
@Index('idx_certificates_issued', ['issuedAt', 'status'])
export class Certificate {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** The verification code, e.g. 7KQM-R4XD-9TWC: 60 random bits, no 0/O/1/I. */
  @VarcharColumn(20)
  code!: string;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_certificates_user' })
  user?: unknown;

  @VarcharColumn(20)
  subjectType!: SubjectType;

  /** The course id (or webinar id) certified. */
  @Column({ type: 'integer' })
  subjectId!: number;

  /** 1 when first issued; an admin's re-issue adds a revision after revoking the previous one. */
  @Column({ type: 'integer', default: 1 })
  revision!: number;

  @VarcharColumn(160)
  subjectTitle!: string;

  @VarcharColumn(120)
  holderName!: string;

  @Column({ type: 'integer' })
  cpdMinutes!: number;

  /** When the course was completed (or the webinar attended). */
  @DateTimeColumn()
  achievedAt!: Date;

  @DateTimeColumn()
  issuedAt!: Date;

  @VarcharColumn(255)
  fileKey!: string;

  @VarcharColumn(64)
  sha256!: string;

  /**
   * The Open Badges recipient salt: 32 random hex characters drawn when the certificate is issued, so the
   * assertion's `sha256$…` identity (hex SHA-256 of e-mail + salt) says nothing about the e-mail without it, and no
   * two assertions of one person share a hash.
   */
  @VarcharColumn(32)
  recipientSalt!: string;

  /**
   * The assertion's hashed recipient, frozen when the holder deleted their account and kept their certificates: the
   * address it was hashed from is erased, and a backpack holding the badge still matches it. Null: hashed live.
   */
  @VarcharColumn(71, { nullable: true })
  recipientIdentity!: string | null;

  @VarcharColumn(20)
  status!: CertificateStatus;

  @DateTimeColumn({ nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  revokedReason!: string | null;
}
