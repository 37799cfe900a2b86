import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import type { CurrentUser } from '../accounts/identity';
import { AuditTrail } from '../audit/audit-trail';
import { cpdHours } from '../catalogue/catalogue.service';
import { Clock } from '../common/clock';
import { Conflict, NotFound } from '../common/errors';
import { londonDate } from '../common/london-time';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { isUniqueViolation } from '../database/errors';
import { JobsService } from '../jobs/jobs.service';
import { UnitOfWork } from '../database/unit-of-work';
import { MailService, type MailRequest } from '../mail/mail.service';
import { FileStorage } from '../storage/file-storage';
import { Certificate, CERTIFICATE_KIND, SubjectType } from './certificate.entity';
import { StaffVisibility } from '../common/staff-visibility';
import { renderCertificatePdf } from './certificate-pdf';
import type { CertificateFacts, CertificateSubject } from './certificate-subjects';
import { newVerificationCode, normaliseCode } from './verification-code';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'certificates.issue': { subjectType: SubjectType; referenceId: number };
  }
}

/** What a certificate's PDF shows. */
type RenderedFields = Pick<Certificate, 'subjectType' | 'holderName' | 'subjectTitle' | 'achievedAt' | 'issuedAt' | 'cpdMinutes' | 'code' | 'fileKey'>;

/** A certificate's Open Badges recipient salt: 128 random bits, as 32 hex characters. */
export const newRecipientSalt = () => randomBytes(16).toString('hex');

export const hoursLabel = (minutes: number) => `${cpdHours(minutes)} ${cpdHours(minutes) === 1 ? 'hour' : 'hours'}`;

/**
 * Issues, finds and verifies certificates. Issuing is idempotent: the unique index on (holder, subject,
 * revision) admits one certificate however many jobs race, a losing job removes its own file, and the
 * e-mail is keyed by the certificate so it goes once.
 */
@Injectable()
export class CertificatesService {
  private readonly logger = new Logger('Certificates');
  private readonly subjects = new Map<SubjectType, CertificateSubject>();

  constructor(
    @InjectRepository(Certificate) private readonly certificates: Repository<Certificate>,
    private readonly storage: FileStorage,
    private readonly jobs: JobsService,
    private readonly mail: MailService,
    private readonly accounts: AccountsService,
    private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly staffVisibility: StaffVisibility,
    private readonly audit: AuditTrail,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Called by each subject's owner at start-up (courses now, webinars later). */
  registerSubject(subject: CertificateSubject): void {
    this.subjects.set(subject.type, subject);
  }

  /**
   * Asks for a certificate; one job per reference, whatever calls this and however often. Callers ask because the
   * database shows the certificate owed and not recorded (a completion, a credit), so a finished job of this
   * reference (kept as failed for a week when every try met a database outage) runs again.
   */
  requestIssue(subjectType: SubjectType, referenceId: number): Promise<boolean> {
    return this.jobs.tryEnqueue('certificates.issue', { subjectType, referenceId }, { jobId: `certificates.issue:${subjectType}:${referenceId}`, attempts: 8, rerunFinished: true });
  }

  /**
   * The job: renders and stores the PDF, records the certificate, e-mails the holder. Every step can be
   * repeated: the row is unique per holder and subject (a run that loses the race removes its own file and
   * takes the winner's row), and the e-mail is keyed by the certificate.
   */
  async issue(subjectType: SubjectType, referenceId: number): Promise<Certificate | null> {
    const subject = this.subjectOf(subjectType);
    const facts = await subject.facts(referenceId);
    if (!facts) return null;
    const holder = await this.holderOf(facts.userId);
    // The certificate, its e-mail and the subject's "issued" mark are written in one transaction: each exists
    // exactly when the others do. Issuing runs in a worker, so the e-mail then goes from here at once.
    const { certificate, recorded } = await this.record(facts, holder, 1, async (tx, row) => {
      const mail = await this.mail.record(this.issuedMail(row, holder), { tx, claimed: true });
      await subject.issued(referenceId, tx);
      return mail;
    });
    if (recorded !== undefined) {
      if (recorded) await this.mail.deliverNow(recorded);
    } else {
      // Another run (or an earlier release) recorded it: make sure what follows a certificate has happened.
      await this.mail.send(this.issuedMail(certificate, holder));
      await subject.issued(referenceId);
    }
    return certificate;
  }

  /** The PDF's render time alone, for the benchmark's report. */
  async renderFor(certificate: RenderedFields): Promise<Buffer> {
    return renderCertificatePdf({
      kind: CERTIFICATE_KIND[certificate.subjectType],
      holderName: certificate.holderName,
      subjectTitle: certificate.subjectTitle,
      achievedOn: londonDate(certificate.achievedAt),
      issuedAt: certificate.issuedAt,
      cpdHours: cpdHours(certificate.cpdMinutes),
      academyName: this.config.academyName,
      code: certificate.code,
      verifyUrl: this.verifyUrl(certificate.code),
    });
  }

  verifyUrl(code: string): string {
    return `${this.config.publicUrl}/verify/${code}`;
  }

  downloadPath(code: string): string {
    return `/certificates/${code}.pdf`;
  }

  /** The certificate's Open Badges 2.0 assertion (hosted verification). */
  badgeUrl(code: string): string {
    return `${this.config.publicUrl}/badges/assertions/${code}`;
  }

  /** The badge image with the assertion's URL baked in, to download and upload to a backpack. */
  bakedBadgePath(code: string): string {
    return `/badges/assertions/${code}/badge.png`;
  }

  /** The holder's certificates, newest first. */
  listFor(userId: number): Promise<Certificate[]> {
    return this.certificates.find({ where: { userId, status: In(['valid', 'revoked']) }, order: { issuedAt: 'DESC', id: 'DESC' } });
  }

  /** For admins: a certificate by code, a person's certificates by e-mail, or the latest issued. */
  async search(query: string): Promise<Certificate[]> {
    const issued = In(['valid', 'revoked'] as const);
    const code = normaliseCode(query);
    if (code) return this.certificates.find({ where: { code, status: issued } });
    if (query.includes('@')) {
      const userId = await this.accounts.userIdByEmail(query);
      return userId ? this.listFor(userId) : [];
    }
    return this.certificates.find({ where: { status: issued }, order: { issuedAt: 'DESC', id: 'DESC' }, take: 50 });
  }

  /** The holder's current certificate for a subject, if any. */
  forSubject(userId: number, subjectType: SubjectType, subjectId: number): Promise<Certificate | null> {
    return this.certificates.findOne({ where: { userId, subjectType, subjectId, status: 'valid' }, order: { revision: 'DESC' } });
  }

  /**
   * A certificate by code, for public verification. Unknown and malformed codes take the same path (one
   * indexed lookup) and give the same answer, so neither the message nor the timing tells them apart.
   */
  async verify(rawCode: string): Promise<Certificate> {
    const code = normaliseCode(rawCode) ?? 'XXXX-XXXX-XXXX';
    const certificate = await this.certificates.findOne({ where: { code } });
    if (!certificate || certificate.status === 'issuing') throw new NotFound('No certificate has that code. Check it and try again.');
    return certificate;
  }

  /** The certificate and its PDF, for its holder, admins and the holder's organisation managers; 404 for anyone else. */
  async openForViewer(rawCode: string, viewer: CurrentUser): Promise<{ certificate: Certificate; size: number }> {
    const code = normaliseCode(rawCode);
    const certificate = code ? await this.certificates.findOne({ where: { code } }) : null;
    if (!certificate || certificate.status === 'issuing' || !(await this.mayDownload(certificate, viewer))) throw new NotFound('There is no certificate at this address');
    const size = await this.storage.size(certificate.fileKey);
    if (size === null) throw new NotFound('There is no certificate at this address');
    return { certificate, size };
  }

  private async mayDownload(certificate: Certificate, viewer: CurrentUser): Promise<boolean> {
    if (viewer.id === certificate.userId || viewer.role === 'admin') return true;
    return this.staffVisibility.managerMaySee(viewer.id, certificate.userId);
  }

  /** What a badge class says about a subject: its title, a description, the criteria and its page. */
  async subjectSummary(type: SubjectType, subjectId: number): Promise<{ title: string; description: string; criteria: string; cpdMinutes: number; url: string } | null> {
    const subject = this.subjects.get(type);
    const summary = subject ? await subject.summary(subjectId) : null;
    if (!summary) return null;
    return { ...summary, url: `${this.config.publicUrl}${summary.path}` };
  }

  /**
   * An admin withdraws a certificate: verification then shows it revoked, with the date and reason. The audit log
   * records it in the same transaction.
   */
  async revoke(rawCode: string, reason: string, admin: CurrentUser): Promise<Certificate> {
    const certificate = await this.verify(rawCode);
    if (certificate.status === 'revoked') throw new Conflict('This certificate is already revoked');
    const revoked = await this.uow.run(async (tx) => {
      const result = await tx.getRepository(Certificate).update({ id: certificate.id, status: 'valid' }, { status: 'revoked', revokedAt: this.clock.now(), revokedReason: reason });
      if (!result.affected) return false;
      await this.audit.record(tx, admin, {
        action: 'certificate.revoked',
        target: { type: 'certificate', id: certificate.id, label: `${certificate.code}: ${certificate.subjectTitle} (${certificate.holderName})` },
        details: { code: certificate.code, reason, holderId: certificate.userId, subjectType: certificate.subjectType, subjectId: certificate.subjectId },
      });
      return true;
    });
    if (!revoked) throw new Conflict('This certificate is already revoked');
    this.logger.log(`Certificate ${certificate.code} revoked by admin ${admin.id}: ${reason}`);
    return this.certificates.findOneByOrFail({ id: certificate.id });
  }

  /**
   * An admin issues a certificate again (after a name change, say): the current one is revoked and a new
   * revision, with a new code and PDF, is issued and e-mailed.
   */
  async reissue(rawCode: string, admin: CurrentUser): Promise<Certificate> {
    const old = await this.verify(rawCode);
    const latest = await this.current(old);
    if (!latest || latest.id !== old.id) throw new Conflict('Only the latest certificate for a course can be re-issued');
    if (old.status === 'valid') await this.revoke(old.code, 'Re-issued', admin);
    const holder = await this.holderOf(old.userId);
    const { certificate: fresh } = await this.record(old, holder, old.revision + 1);
    await this.mail.send(this.issuedMail(fresh, holder));
    return fresh;
  }

  private subjectOf(type: SubjectType): CertificateSubject {
    const subject = this.subjects.get(type);
    if (!subject) throw new Error(`No certificate subject registered for "${type}"`);
    return subject;
  }

  private current(facts: Pick<CertificateFacts, 'userId' | 'subjectType' | 'subjectId'>): Promise<Certificate | null> {
    return this.certificates.findOne({ where: { userId: facts.userId, subjectType: facts.subjectType, subjectId: facts.subjectId }, order: { revision: 'DESC' } });
  }

  private async holderOf(userId: number): Promise<CurrentUser> {
    const holder = await this.accounts.currentUser(userId);
    if (!holder) throw new Error(`No user ${userId} for a certificate`);
    return holder;
  }

  /**
   * Stores the new certificate's PDF, then inserts its row, already valid, in a transaction with whatever
   * `alongside` writes (through `tx`): a row never points at a missing file. `recorded` is what `alongside`
   * returned; it is undefined when another run inserted the row first, in which case this run removes its own
   * file and returns theirs.
   */
  private async record<T>(
    facts: CertificateFacts,
    holder: CurrentUser,
    revision = 1,
    alongside?: (tx: EntityManager, certificate: Certificate) => Promise<T>,
  ): Promise<{ certificate: Certificate; recorded?: T }> {
    const code = newVerificationCode();
    const row: Omit<Certificate, 'id' | 'user'> = {
      code,
      userId: facts.userId,
      subjectType: facts.subjectType,
      subjectId: facts.subjectId,
      revision,
      subjectTitle: facts.subjectTitle,
      holderName: holder.name,
      cpdMinutes: facts.cpdMinutes,
      achievedAt: facts.achievedAt,
      issuedAt: this.clock.now(),
      fileKey: `certificates/${code}.pdf`,
      sha256: '',
      recipientSalt: newRecipientSalt(),
      recipientIdentity: null,
      status: 'valid',
      revokedAt: null,
      revokedReason: null,
    };
    row.sha256 = await this.storePdfFile(row);
    try {
      return await this.uow.run(async (tx) => {
        const inserted = await tx.getRepository(Certificate).insert(row);
        const certificate = this.certificates.create({ ...row, id: Number(inserted.identifiers[0].id) });
        return { certificate, recorded: alongside ? await alongside(tx, certificate) : undefined };
      });
    } catch (err) {
      // Whatever went wrong, this run's file belongs to no row. (A crash just here leaves it behind, unreferenced.)
      await this.storage.remove(row.fileKey);
      if (!isUniqueViolation(err)) throw err;
      // Another run recorded it first (or, once in 2^60, the code was taken and the retry draws another).
      const winner = await this.current(facts);
      if (winner && winner.revision >= revision) return { certificate: winner.status === 'issuing' ? await this.finishIssuing(winner) : winner };
      throw err;
    }
  }

  /** Renders and stores a certificate's PDF; returns its SHA-256. */
  private async storePdfFile(certificate: RenderedFields): Promise<string> {
    const pdf = await this.renderFor(certificate);
    return (await this.storage.putBytes(certificate.fileKey, pdf)).sha256;
  }

  /**
   * A row left "issuing" by an earlier release, which recorded the row before storing its PDF and could be
   * cut short in between: its PDF is stored (the same bytes, as the PDF is a function of the row) and it is
   * marked valid.
   */
  private async finishIssuing(certificate: Certificate): Promise<Certificate> {
    const sha256 = await this.storePdfFile(certificate);
    await this.certificates.update({ id: certificate.id, status: 'issuing' }, { status: 'valid', sha256 });
    return Object.assign(certificate, { status: 'valid' as const, sha256 });
  }

  /** The "your certificate is ready" e-mail, keyed by the certificate: it goes once. */
  private issuedMail(certificate: Certificate, holder: CurrentUser): MailRequest {
    return {
      to: holder.email,
      template: 'certificate-issued',
      dedupeKey: `certificate-issued:${certificate.id}`,
      data: {
        name: holder.name,
        achievement: certificate.subjectType === 'course' ? 'completed the course' : 'attended the webinar',
        cpdLabel: hoursLabel(certificate.cpdMinutes),
        subjectTitle: certificate.subjectTitle,
        achievedOn: londonDate(certificate.achievedAt),
        code: certificate.code,
        downloadUrl: `${this.config.publicUrl}${this.downloadPath(certificate.code)}`,
        verifyUrl: this.verifyUrl(certificate.code),
        certificatesUrl: `${this.config.publicUrl}/my-certificates`,
      },
    };
  }
}
