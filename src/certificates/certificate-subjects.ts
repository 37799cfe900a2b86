import type { EntityManager } from 'typeorm';
import type { SubjectType } from './certificate.entity';

/** What a certificate certifies, as the feature that owns the subject (courses, webinars) describes it. */
export interface CertificateFacts {
  userId: number;
  subjectType: SubjectType;
  subjectId: number;
  subjectTitle: string;
  cpdMinutes: number;
  achievedAt: Date;
}

/**
 * A kind of subject certificates can be issued for. `facts` returns null when the reference is not (or no
 * longer) eligible; `issued` is told once the certificate exists, so the owner can record that.
 */
export interface CertificateSubject {
  type: SubjectType;
  facts(referenceId: number): Promise<CertificateFacts | null>;
  /** Inside the transaction that records the certificate (`tx`), or on its own when it was recorded before. */
  issued(referenceId: number, tx?: EntityManager): Promise<void>;
  /** For the Open Badges BadgeClass: title, description, what earns it, the CPD it gives (its image shows it), and its page. */
  summary(subjectId: number): Promise<{ title: string; description: string; criteria: string; cpdMinutes: number; path: string } | null>;
}
