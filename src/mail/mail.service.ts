import { Clock } from '../common/clock';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, LessThan, Repository } from 'typeorm';
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
  /** Files sent with the message; stored with it, so a retry sends the same bytes. */
  attachments?: MailAttachment[];
  /**
   * An iTIP calendar object (RFC 5546 over e-mail, RFC 6047): sent as a `text/calendar; method=…` part of the
   * message's multipart/alternative, which Outlook and Gmail act on, and attached as the same .ics file. Stored
   * with the message, so a retry sends the same bytes (its DTSTAMP stays the moment it was composed).
   */
  calendar?: MailCalendar;
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: string;
}

export interface MailCalendar {
  method: 'REQUEST' | 'CANCEL' | 'PUBLISH';
  /** The name of the attached copy, e.g. `webinar.ics`. */
  filename: string;
  /** The whole iCalendar object, CRLF line endings. */
  content: string;
}

/** Where a message's extra headers, attachments and calendar object are kept inside its stored payload. */
const HEADERS_KEY = '__headers';
const ATTACHMENTS_KEY = '__attachments';
const CALENDAR_KEY = '__calendar';

/** Tries per message across jobs and sweeps before it is marked failed. */
export const MAX_MAIL_ATTEMPTS = 10;
/** A pending message this old is assumed lost from the queue and re-enqueued by the sweep. */
const SWEEP_AFTER_MS = 60_000;
/**
 * How long a delivery holds a message without renewing its lease. The delivering process renews it every
 * LEASE_RENEW_MS while the SMTP exchange runs, so a slow exchange keeps it; a killed worker's messages are free again
 * within seconds (and its delivery jobs come back from BullMQ's stalled-job check about as soon).
 */
export const DELIVERY_LEASE_MS = 15_000;
const LEASE_RENEW_MS = 5_000;
/** A delivery that finds another's live lease looks again this long after it ends (renewed, or its holder died). */
const FOLLOW_LEASE_MARGIN_MS = 500;
/** Rows per INSERT when many messages go at once. */
const SEND_BATCH = 500;

@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');

  constructor(
    private readonly clock: Clock,
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
    const message = await this.record(request);
    if (message) await this.jobs.tryEnqueue('mail.deliver', { messageId: message.id }, firstDeliverJob(message.id));
  }

  /**
   * Records a message without asking for its delivery; null when its key was used before (one message per key).
   * `tx` records it inside the caller's transaction, so it exists exactly when what it announces does. `claimed`
   * leases it to this process from the start, for a caller that will `deliverNow` it once that transaction has
   * committed (if this process dies first, the lease runs out and the sweep delivers it).
   */
  async record(request: MailRequest, options: { tx?: EntityManager; claimed?: boolean } = {}): Promise<MailMessage | null> {
    if (!this.templates.has(request.template)) throw new Error(`No e-mail template named "${request.template}"`);
    const now = this.clock.now();
    const row = { ...this.row(request, now), ...(options.claimed ? { attempts: 1, lockedUntil: new Date(now.getTime() + DELIVERY_LEASE_MS) } : {}) };
    const messages = options.tx?.getRepository(MailMessage) ?? this.messages;
    try {
      const result = await messages.insert(row);
      return this.messages.create({ lockedUntil: null, ...row, id: Number(result.identifiers[0].id) });
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Delivers, from here and now, a message recorded `claimed` by this process (a worker: a certificate job), sparing
   * a job and three statements. If delivery fails the message stays pending with its error and a delivery job
   * retries it later (the sweep behind that, as for every message); the caller goes on, the message being safe.
   */
  async deliverNow(message: MailMessage): Promise<void> {
    try {
      await this.deliverClaimed(message);
    } catch (err) {
      this.logger.warn(`Message ${message.id} could not be sent at once; a delivery job will retry it: ${err instanceof Error ? err.message : err}`);
      await this.jobs.tryEnqueue('mail.deliver', { messageId: message.id }, { ...firstDeliverJob(message.id), delayMs: this.config.jobs.retryDelayMs });
    }
  }

  /**
   * Many messages at once (reminders to every registrant): recorded in batches, keys already used skipped,
   * and one delivery job per new message. Safe to run twice at once: the unique key lets one row through.
   */
  async sendMany(requests: MailRequest[]): Promise<void> {
    for (const request of requests) if (!this.templates.has(request.template)) throw new Error(`No e-mail template named "${request.template}"`);
    for (let at = 0; at < requests.length; at += SEND_BATCH) {
      const batch = requests.slice(at, at + SEND_BATCH);
      const createdAt = this.clock.now();
      await this.messages
        .createQueryBuilder()
        .insert()
        .values(batch.map((request) => this.row(request, createdAt)))
        .orIgnore()
        .updateEntity(false)
        .execute();
      const recorded = await this.messages.find({ where: { dedupeKey: In(batch.map((r) => r.dedupeKey)), status: 'pending', attempts: 0 }, select: { id: true } });
      await Promise.all(recorded.map(({ id }) => this.jobs.tryEnqueue('mail.deliver', { messageId: id }, firstDeliverJob(id))));
    }
  }

  /**
   * Delivers one recorded message; a message already sent (or gone) is success. The job first takes the
   * message's lease (one UPDATE that only one job can win), so a sweep or a second job that finds it still
   * pending while it is being sent does not send it again; it looks again when that lease ends instead.
   *
   * Delivery is at least once: a worker killed after the SMTP server accepted a message but before it was
   * recorded as sent leaves it pending, and it is sent again, with the same Message-ID (so mail clients and
   * servers that deduplicate by Message-ID show it once).
   */
  async deliver(messageId: number): Promise<void> {
    const now = this.clock.now();
    const claim = await this.messages
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1', lockedUntil: new Date(now.getTime() + DELIVERY_LEASE_MS) })
      .where('id = :id AND status = :pending AND (locked_until IS NULL OR locked_until < :now)', { id: messageId, pending: 'pending', now })
      .execute();
    if (!claim.affected) return this.followLease(messageId);
    const message = await this.messages.findOne({ where: { id: messageId } });
    if (!message) return;
    await this.deliverClaimed(message);
  }

  /** Sends a message whose lease this process holds, renewing the lease meanwhile; records the outcome. */
  private async deliverClaimed(message: MailMessage): Promise<void> {
    const messageId = message.id;
    const lease = this.keepLease(messageId, message.attempts);
    try {
      const { [HEADERS_KEY]: headers, [ATTACHMENTS_KEY]: attachments, [CALENDAR_KEY]: calendar, ...data } = JSON.parse(message.payload) as Record<string, unknown>;
      const rendered = this.templates.render(message.template, { ...data, academyName: this.config.academyName, publicUrl: this.config.publicUrl });
      await this.transport.deliver({
        ...rendered,
        ...(headers ? { headers: headers as Record<string, string> } : {}),
        ...(attachments ? { attachments: attachments as MailAttachment[] } : {}),
        ...(calendar ? { calendar: calendar as MailCalendar } : {}),
        to: message.toAddress,
        from: this.config.mail.from,
        messageId: `<mail-${message.id}-${message.createdAt.getTime()}@${new URL(this.config.publicUrl).hostname}>`,
      });
    } catch (err) {
      await lease.stop();
      const failed = message.attempts >= MAX_MAIL_ATTEMPTS;
      await this.messages.update({ id: messageId }, { lastError: String(err instanceof Error ? err.message : err).slice(0, 500), status: failed ? 'failed' : 'pending', lockedUntil: null });
      throw err;
    }
    await lease.stop();
    await this.messages.update({ id: messageId }, { status: 'sent', sentAt: this.clock.now(), lastError: null, lockedUntil: null });
  }

  /**
   * Renews this delivery's lease every LEASE_RENEW_MS until stopped. The try count its claim set identifies the
   * lease: a renewal never extends a lease another delivery has taken since. `stop` waits for a renewal in flight,
   * so none lands after the message is released.
   */
  private keepLease(messageId: number, attempts: number): { stop(): Promise<void> } {
    let inFlight: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      inFlight = this.messages
        .update({ id: messageId, status: 'pending', attempts }, { lockedUntil: new Date(this.clock.now().getTime() + DELIVERY_LEASE_MS) })
        .catch((err) => this.logger.warn(`Could not renew the delivery lease of message ${messageId}: ${err instanceof Error ? err.message : err}`));
    }, LEASE_RENEW_MS);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await inFlight;
      },
    };
  }

  /**
   * The claim failed: the message is sent, failed, gone, or another delivery holds a live lease. In that last
   * case this is asked again just after the lease ends, so that if its holder died the message goes seconds
   * later rather than waiting for the sweep; if the holder is alive it will have sent it, or renewed the lease.
   */
  private async followLease(messageId: number): Promise<void> {
    const current = await this.messages.findOne({ where: { id: messageId }, select: { id: true, status: true, lockedUntil: true } });
    if (current?.status !== 'pending' || !current.lockedUntil) return;
    const until = current.lockedUntil.getTime();
    await this.jobs.enqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}:after:${until}`, delayMs: Math.max(0, until - this.clock.now().getTime()) + FOLLOW_LEASE_MARGIN_MS });
  }

  /** Re-enqueues pending messages that have waited too long: the queue lost them, or Redis was down. */
  async sweep(): Promise<number> {
    const stale = await this.messages.find({
      // Not those a job is delivering right now (an unexpired lease).
      where: [
        { status: 'pending', createdAt: LessThan(new Date(this.clock.now().getTime() - SWEEP_AFTER_MS)), lockedUntil: IsNull() },
        { status: 'pending', createdAt: LessThan(new Date(this.clock.now().getTime() - SWEEP_AFTER_MS)), lockedUntil: LessThan(this.clock.now()) },
      ],
      select: { id: true },
      order: { id: 'ASC' },
      take: 500,
    });
    for (const message of stale) await this.jobs.enqueue('mail.deliver', { messageId: message.id }, sweptDeliverJob(message.id));
    if (stale.length) this.logger.log(`Re-enqueued ${stale.length} pending message(s)`);
    return stale.length;
  }

  private row(request: MailRequest, createdAt: Date) {
    return {
      dedupeKey: request.dedupeKey,
      toAddress: request.to,
      template: request.template,
      payload: JSON.stringify({
        ...request.data,
        ...(request.headers && { [HEADERS_KEY]: request.headers }),
        ...(request.attachments && { [ATTACHMENTS_KEY]: request.attachments }),
        ...(request.calendar && { [CALENDAR_KEY]: request.calendar }),
      }),
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

/** One job id per message: a message just recorded has no job yet, so nothing is looked up first. */
const firstDeliverJob = (messageId: number) => ({ jobId: `mail.deliver:${messageId}` });

/**
 * The sweep enqueues only messages the outbox shows pending, so a finished job of one (completed, or failed after
 * its retries, e.g. while the database was away and no try could be counted) runs again; a waiting or running one
 * is not doubled.
 */
const sweptDeliverJob = (messageId: number) => ({ jobId: `mail.deliver:${messageId}`, rerunFinished: true });
