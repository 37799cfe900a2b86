import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import type { CurrentUser } from '../accounts/identity';
import { DELETED_ACCOUNT_NAME } from '../accounts/personal-data';
import { RateLimiter } from '../accounts/rate-limiter';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Conflict, ValidationFailed } from '../common/errors';
import { isAsyncIterable, PersonalDataRegistry, type CertificateChoice, type ErasureResult, type PersonalDataSection } from '../common/personal-data';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { UnitOfWork } from '../database/unit-of-work';

/** Downloads of one person's data per hour: each reads everything they have, so a few are plenty. */
export const DOWNLOADS_PER_HOUR = 5;
export const WRONG_PASSWORD = 'Your password is not correct';
export const LAST_ADMINISTRATOR =
  'You are the only active administrator, so your account cannot be deleted: the academy would have nobody to run it. Make someone else an administrator first.';

/** The document's sections in this order; any others after them, as they registered. */
const DOCUMENT_ORDER = [
  'account',
  'memberships',
  'requiredLearning',
  'sessions',
  'apiTokens',
  'passwordResets',
  'emailPreferences',
  'enrolments',
  'lessonProgress',
  'quizAttempts',
  'certificates',
  'webinarRegistrations',
  'webinarAttendance',
  'webinarQuestions',
  'emails',
];
/** Text is sent once this much has gathered, rather than row by row. */
const CHUNK_CHARS = 16_384;

export interface DeletionOutcome {
  certificates: CertificateChoice;
  counts: Record<string, number>;
}

/**
 * People's rights over their data (UK GDPR): everything held about a person as one JSON document, streamed section
 * by section from every module that holds personal data (common/personal-data.ts), and the deletion of their account:
 * every section erased in one transaction with the anonymised account and an audit entry that says it happened (with
 * counts, never the data), then what lies outside the database (sessions in Redis, stored certificate PDFs).
 */
@Injectable()
export class PrivacyService {
  private readonly logger = new Logger('Privacy');

  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditTrail,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The sections in the order the document gives them. */
  sections(): PersonalDataSection[] {
    const rank = (s: PersonalDataSection) => (DOCUMENT_ORDER.includes(s.name) ? DOCUMENT_ORDER.indexOf(s.name) : DOCUMENT_ORDER.length);
    return [...this.registry.sections()].sort((a, b) => rank(a) - rank(b));
  }

  /**
   * The person's data as a stream of JSON text: `{ generatedAt, person, sections: { … } }`. Each section is read when
   * the stream reaches it, long ones a page at a time, so however much a person has, a page of it is in memory.
   * Counts against DOWNLOADS_PER_HOUR (TooManyRequests beyond).
   */
  async download(user: CurrentUser): Promise<Readable> {
    await this.limiter.hit(`personal-data:${user.id}`, DOWNLOADS_PER_HOUR, 3600);
    const stream = Readable.from(this.document(user), { objectMode: false, highWaterMark: CHUNK_CHARS });
    stream.on('error', (err) => this.logger.error(`The data download of account ${user.id} broke off: ${err.message}`));
    return stream;
  }

  private async *document(user: CurrentUser): AsyncGenerator<string> {
    const head = { generatedAt: this.clock.now().toISOString(), academy: { name: this.config.academyName, url: this.config.publicUrl }, person: { id: user.id, name: user.name, email: user.email } };
    yield `${JSON.stringify(head, null, 1).slice(0, -2)},\n "sections": {`;
    let first = true;
    for (const section of this.sections()) {
      yield `${first ? '' : ','}\n  ${JSON.stringify(section.name)}: `;
      first = false;
      const value = section.export(user.id, { email: user.email });
      if (!isAsyncIterable(value)) {
        yield JSON.stringify((await value) ?? null);
        continue;
      }
      let buffer = '[';
      let items = 0;
      for await (const item of value) {
        buffer += `${items++ ? ',' : ''}\n   ${JSON.stringify(item)}`;
        if (buffer.length >= CHUNK_CHARS) {
          yield buffer;
          buffer = '';
        }
      }
      yield `${buffer}${items ? '\n  ' : ''}]`;
    }
    yield '\n }\n}\n';
  }

  /** Whether the person may delete their account at all: the last active administrator may not. */
  async refusalFor(user: CurrentUser): Promise<string | null> {
    return (await this.accounts.isLastActiveAdministrator(user.id)) ? LAST_ADMINISTRATOR : null;
  }

  /**
   * Deletes the account, confirmed with its password. Every section's personal data is erased and the account
   * anonymised in one transaction, with the `user.deleted` audit entry; nothing changes when the password is wrong or
   * the person is the last active administrator. Sessions and tokens end with the transaction (Redis sessions at once
   * after), so the person is signed out everywhere.
   */
  async deleteAccount(user: CurrentUser, password: string, certificates: CertificateChoice): Promise<DeletionOutcome> {
    const { perAccount, windowSeconds } = this.config.authRateLimit;
    await this.limiter.hit(`account-delete:${user.id}`, perAccount, windowSeconds);
    if (!(await this.accounts.verifyPassword(user.id, password))) throw new ValidationFailed({ password: WRONG_PASSWORD }, WRONG_PASSWORD);
    const refusal = await this.refusalFor(user);
    if (refusal) throw new Conflict(refusal, { certificates: refusal });
    const at = this.clock.now();
    // What depends on another section's rows registered after it (a module after the modules it uses): erased first.
    const sections = [...this.registry.sections()].reverse();
    const { results, counts } = await this.uow.run(async (tx) => {
      if (await this.accounts.isLastActiveAdministrator(user.id, tx)) throw new Conflict(LAST_ADMINISTRATOR, { certificates: LAST_ADMINISTRATOR });
      const done: ErasureResult[] = [];
      for (const section of sections) done.push((await section.erase(tx, user.id, { email: user.email, certificates, at })) ?? {});
      const counts: Record<string, number> = Object.assign({}, ...done.map((r) => r.counts ?? {}));
      await this.audit.forgetPerson(tx, { id: user.id, name: user.name, email: user.email }, DELETED_ACCOUNT_NAME);
      await this.audit.record(tx, { id: user.id, name: DELETED_ACCOUNT_NAME }, { action: 'user.deleted', target: { type: 'user', id: user.id, label: DELETED_ACCOUNT_NAME }, details: { certificates, counts } });
      return { results: done, counts };
    });
    for (const result of results) {
      await result.afterCommit?.().catch((err: unknown) => this.logger.error(`After deleting account ${user.id}: ${err instanceof Error ? err.message : err}`));
    }
    this.logger.log(`Account ${user.id} deleted at its holder's request (certificates: ${certificates})`);
    return { certificates, counts };
  }
}
