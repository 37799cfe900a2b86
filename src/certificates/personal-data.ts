import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { cpdHours } from '../catalogue/catalogue.service';
import { PersonalDataRegistry, type ErasureResult } from '../common/personal-data';
import { FileStorage } from '../storage/file-storage';
import { hashedRecipient } from './badge-recipient';
import { Certificate } from './certificate.entity';
import { CertificatesService } from './certificates.service';

/** Shown on the verify page of every certificate revoked because its holder deleted their account. */
export const ACCOUNT_DELETED_REASON = 'Account deleted';
const DELETED_HOLDER = 'Deleted account';

/**
 * The certificates module's personal data: each certificate with its code and status. A certificate carries the
 * holder's name as it was printed (holder_name, the name the verify page and the PDF show, never the account's current
 * name), so when the person deletes their account and keeps their certificates, each still verifies under that name.
 * When they choose to revoke them, each is revoked with the reason "Account deleted", the name is taken off the record
 * and the stored PDFs are removed.
 */
@Injectable()
export class CertificatesPersonalData implements OnModuleInit {
  private readonly logger = new Logger('Certificates');

  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly certificates: CertificatesService,
    private readonly storage: FileStorage,
    @InjectRepository(Certificate) private readonly rows: Repository<Certificate>,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'certificates',
      description: 'Your certificates: what each is for, the name printed on it, the CPD hours, its verification code and whether it is valid',
      export: async (userId) => {
        const list = await this.rows.find({ where: { userId, status: In(['valid', 'revoked']) }, order: { id: 'ASC' } });
        return list.map((c) => ({
          code: c.code,
          kind: c.subjectType,
          subject: { id: c.subjectId, title: c.subjectTitle },
          revision: c.revision,
          holderName: c.holderName,
          cpdHours: cpdHours(c.cpdMinutes),
          achievedAt: c.achievedAt,
          issuedAt: c.issuedAt,
          status: c.status,
          revokedAt: c.revokedAt,
          revokedReason: c.revokedReason,
          verifyUrl: this.certificates.verifyUrl(c.code),
        }));
      },
      erase: async (tx, userId, { certificates: choice, email, at }): Promise<ErasureResult> => {
        const repo = tx.getRepository(Certificate);
        const held = await repo.find({ where: { userId }, select: { id: true, status: true, fileKey: true, recipientSalt: true, recipientIdentity: true } });
        const live = held.filter((c) => c.status !== 'revoked');
        if (choice === 'keep') {
          // The address goes with the account; each badge's hashed recipient is frozen first, so it still matches.
          for (const c of live) if (!c.recipientIdentity) await repo.update({ id: c.id }, { recipientIdentity: hashedRecipient(email, c.recipientSalt) });
          return { counts: { certificatesKept: live.length } };
        }
        if (live.length) await repo.update({ id: In(live.map((c) => c.id)) }, { status: 'revoked', revokedAt: at, revokedReason: ACCOUNT_DELETED_REASON });
        if (held.length) await repo.update({ userId }, { holderName: DELETED_HOLDER });
        const files = held.map((c) => c.fileKey);
        return {
          counts: { certificatesRevoked: live.length },
          afterCommit: async () => {
            for (const key of files) {
              await this.storage.remove(key).catch((err: unknown) => this.logger.warn(`Could not remove ${key} of a deleted account: ${err instanceof Error ? err.message : err}`));
            }
          },
        };
      },
    });
  }
}
