import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThan, Repository } from 'typeorm';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { isUniqueViolation } from '../database/errors';
import { JobsService } from '../jobs/jobs.service';
import { MailMessage } from './mail-message.entity';
import { MailTemplates } from './mail-templates';
import { MailTransport } from './mail-transport';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'mail.deliver': { messageId: number };
    'mail.sweep': Record<string, never>;
  }
}

export interface MailRequest {
  to: string;
  /** A template in views/mail/. */
  template: string;
  data: Record<string, unknown>;
  /** One message per key, ever: e.g. `password-reset:{resetId}`. */
  dedupeKey: string;
  /** Extra headers, e.g. List-Unsubscribe for messages that are not transactional. */
  headers?: Record<string, string>;
  /** Files sent with the message, e.g. a calendar invitation; stored with it, so a retry sends the same bytes. */
  attachments?: MailAttachment[];
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: string;
}

/** Where a message's extra headers and attachments are kept inside its stored payload. */
const HEADERS_KEY = '__headers';
const ATTACHMENTS_KEY = '__attachments';

/** Tries per message across jobs and sweeps before it is marked failed. */
export const MAX_MAIL_ATTEMPTS = 10;
/** A pending message this old is assumed lost from the queue and re-enqueued by the sweep. */
const SWEEP_AFTER_MS = 60_000;
/** How long a delivery job holds a message: longer than any SMTP exchange, short enough to recover from a crash. */
const DELIVERY_LEASE_MS = 5 * 60_000;
/** Rows per INSERT when many messages go at once. */
const SEND_BATCH = 500;

@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');

  constructor(
    @InjectRepository(MailMessage) private readonly messages: Repository<MailMessage>,
    private readonly templates: MailTemplates,
    @Inject(MailTransport) private readonly transport: MailTransport,
    private readonly jobs: JobsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Records the message in the outbox table, then asks the queue to deliver it. If the queue is away the
   * row waits for the sweep; if the key was used before, nothing happens: one message per key.
   */
  async send(request: MailRequest): Promise<void> {
    if (!this.templates.has(request.template)) throw new Error(`No e-mail template named "${request.template}"`);
    let id: number;
    try {
      const result = await this.messages.insert(this.row(request, new Date()));
      id = Number(result.identifiers[0].id);
    } catch (err) {
      if (isUniqueViolation(err)) return;
      throw err;
    }
    await this.jobs.tryEnqueue('mail.deliver', { messageId: id }, { jobId: deliverJobId(id, 0) });
  }

  /**
   * Many messages at once (reminders to every registrant): recorded in batches, keys already used skipped,
   * and one delivery job per new message. Safe to run twice at once: the unique key lets one row through.
   */
  async sendMany(requests: MailRequest[]): Promise<void> {
    for (const request of requests) if (!this.templates.has(request.template)) throw new Error(`No e-mail template named "${request.template}"`);
    for (let at = 0; at < requests.length; at += SEND_BATCH) {
      const batch = requests.slice(at, at + SEND_BATCH);
      const createdAt = new Date();
      await this.messages
        .createQueryBuilder()
        .insert()
        .values(batch.map((request) => this.row(request, createdAt)))
        .orIgnore()
        .updateEntity(false)
        .execute();
      const recorded = await this.messages.find({ where: { dedupeKey: In(batch.map((r) => r.dedupeKey)), status: 'pending', attempts: 0 }, select: { id: true } });
      await Promise.all(recorded.map(({ id }) => this.jobs.tryEnqueue('mail.deliver', { messageId: id }, { jobId: deliverJobId(id, 0) })));
    }
  }

  /**
   * Delivers one recorded message; a message already sent (or gone) is success. The job first takes the
   * message's lease (one UPDATE that only one job can win), so a sweep or a second job that finds it still
   * pending while it is being sent does not send it again.
   */
  async deliver(messageId: number): Promise<void> {
    const now = new Date();
    const claim = await this.messages
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1', lockedUntil: new Date(now.getTime() + DELIVERY_LEASE_MS) })
      .where('id = :id AND status = :pending AND (locked_until IS NULL OR locked_until < :now)', { id: messageId, pending: 'pending', now })
      .execute();
    if (!claim.affected) return;
    const message = await this.messages.findOne({ where: { id: messageId } });
    if (!message) return;
    try {
      const { [HEADERS_KEY]: headers, [ATTACHMENTS_KEY]: attachments, ...data } = JSON.parse(message.payload) as Record<string, unknown>;
      const rendered = this.templates.render(message.template, { ...data, academyName: this.config.academyName, publicUrl: this.config.publicUrl });
      await this.transport.deliver({
        ...rendered,
        ...(headers ? { headers: headers as Record<string, string> } : {}),
        ...(attachments ? { attachments: attachments as MailAttachment[] } : {}),
        to: message.toAddress,
        from: this.config.mail.from,
        messageId: `<mail-${message.id}-${message.createdAt.getTime()}@${new URL(this.config.publicUrl).hostname}>`,
      });
    } catch (err) {
      const failed = message.attempts >= MAX_MAIL_ATTEMPTS;
      await this.messages.update({ id: messageId }, { lastError: String(err instanceof Error ? err.message : err).slice(0, 500), status: failed ? 'failed' : 'pending', lockedUntil: null });
      throw err;
    }
    await this.messages.update({ id: messageId }, { status: 'sent', sentAt: new Date(), lastError: null, lockedUntil: null });
  }

  /** Re-enqueues pending messages that have waited too long: the queue lost them, or Redis was down. */
  async sweep(): Promise<number> {
    const stale = await this.messages.find({
      // Not those a job is delivering right now (an unexpired lease).
      where: [
        { status: 'pending', createdAt: LessThan(new Date(Date.now() - SWEEP_AFTER_MS)), lockedUntil: IsNull() },
        { status: 'pending', createdAt: LessThan(new Date(Date.now() - SWEEP_AFTER_MS)), lockedUntil: LessThan(new Date()) },
      ],
      select: { id: true, attempts: true },
      order: { id: 'ASC' },
      take: 500,
    });
    for (const message of stale) {
      await this.jobs.enqueue('mail.deliver', { messageId: message.id }, { jobId: deliverJobId(message.id, message.attempts) });
    }
    if (stale.length) this.logger.log(`Re-enqueued ${stale.length} pending message(s)`);
    return stale.length;
  }

  private row(request: MailRequest, createdAt: Date) {
    return {
      dedupeKey: request.dedupeKey,
      toAddress: request.to,
      template: request.template,
      payload: JSON.stringify({ ...request.data, ...(request.headers && { [HEADERS_KEY]: request.headers }), ...(request.attachments && { [ATTACHMENTS_KEY]: request.attachments }) }),
      status: 'pending' as const,
      attempts: 0,
      lastError: null,
      createdAt,
      sentAt: null,
    };
  }

  get transportKind(): MailTransport['kind'] {
    return this.transport.kind;
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

/** One job id per message and try count: a lost job is replaced, a kept one is not doubled. */
const deliverJobId = (messageId: number, attempts: number) => `mail.deliver:${messageId}:${attempts}`;
