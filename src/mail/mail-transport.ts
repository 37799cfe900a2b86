import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions, Transporter } from 'nodemailer';
import type { RenderedMail } from './mail-templates';
import type { MailAttachment, MailCalendar } from './mail.service';

export interface OutgoingMail extends RenderedMail {
  to: string;
  from: string;
  messageId: string;
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
  calendar?: MailCalendar;
}

/**
 * nodemailer's message options. A calendar object becomes its `icalEvent`: nodemailer writes it as the
 * `text/calendar; method=…` alternative (beside text and HTML in multipart/alternative) and attaches the same
 * bytes as the named .ics file, the shape Outlook and Gmail send and read.
 */
function messageOptions({ calendar, ...mail }: OutgoingMail): SendMailOptions {
  return { ...mail, ...(calendar && { icalEvent: { method: calendar.method, filename: calendar.filename, content: calendar.content } }) };
}

/** Where e-mail goes: an SMTP server (SMTP_URL), or .eml files in the local outbox folder. */
export abstract class MailTransport {
  abstract readonly kind: 'smtp' | 'outbox';
  abstract deliver(mail: OutgoingMail): Promise<void>;
  close(): void {}
}

export class SmtpTransport extends MailTransport {
  readonly kind = 'smtp' as const;
  private readonly transporter: Transporter;

  /** `concurrency`: how many delivery jobs this process runs at once; each can have a connection of its own. */
  constructor(url: string, concurrency = 5) {
    super();
    // Pooled: connections kept open and reused, rather than a TCP and SMTP handshake per message; as many as
    // the jobs that may send at once, so none waits for a connection (up to a limit a mail server tolerates).
    // The options go in one object with the URL: a second argument to createTransport is message defaults, where
    // `pool` would be ignored and every message would open (and the server reverse-resolve) a connection of its own.
    this.transporter = nodemailer.createTransport({ url, pool: true, maxConnections: Math.min(20, Math.max(5, concurrency)), maxMessages: 1000 });
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    await this.transporter.sendMail(messageOptions(mail));
  }

  override close(): void {
    this.transporter.close();
  }
}

export class OutboxTransport extends MailTransport {
  readonly kind = 'outbox' as const;
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(private readonly dir: string) {
    super();
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    const info = await this.composer.sendMail(messageOptions(mail));
    await mkdir(this.dir, { recursive: true });
    // A file name in arrival order on this machine, not a time the academy reasons about.
    // eslint-disable-next-line no-restricted-syntax
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(this.dir, `${stamp}-${randomUUID().slice(0, 8)}.eml`);
    // Written under a temporary name and renamed, so the outbox page never lists half a message.
    await writeFile(`${file}.tmp`, info.message as Buffer);
    await rename(`${file}.tmp`, file);
  }
}
