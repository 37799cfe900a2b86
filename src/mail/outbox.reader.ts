import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { simpleParser } from 'mailparser';
import { NotFound } from '../common/errors';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';

export interface OutboxEntry {
  file: string;
  date: Date;
  to: string;
  subject: string;
}

const EML_NAME = /^[\w.-]+\.eml$/;

/** Reads the local outbox folder (embedded mail driver) for the admin page. */
@Injectable()
export class OutboxReader {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  async list(limit = 100): Promise<OutboxEntry[]> {
    const dir = this.config.mail.outboxDir;
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => EML_NAME.test(f)).sort().reverse().slice(0, limit);
    return Promise.all(
      files.map(async (file) => {
        const parsed = await simpleParser(await readFile(join(dir, file)), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
        const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? '');
        return { file, date: parsed.date ?? (await stat(join(dir, file))).mtime, to, subject: parsed.subject ?? '(no subject)' };
      }),
    );
  }

  async read(file: string): Promise<OutboxEntry & { text: string; html: string | null }> {
    if (!EML_NAME.test(file)) throw new NotFound('There is no such message in the outbox');
    const raw = await readFile(join(this.config.mail.outboxDir, file)).catch(() => null);
    if (!raw) throw new NotFound('There is no such message in the outbox');
    const parsed = await simpleParser(raw);
    const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? '');
    return { file, date: parsed.date ?? new Date(0), to, subject: parsed.subject ?? '(no subject)', text: parsed.text ?? '', html: parsed.html || null };
  }
}
