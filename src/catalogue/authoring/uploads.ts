import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import { DomainError, ValidationFailed } from '../../common/errors';
import { FileContentError, FileKind, kindForName, requireContent } from '../../storage/content-check';
import { FileStorage, FileTooLargeError, StoredFile } from '../../storage/file-storage';

/** Refused because the file is over UPLOAD_MAX_MB: shown as a 413 page with the form's error summary. */
export class UploadTooLarge extends DomainError {
  constructor(
    readonly field: string,
    readonly maxBytes: number,
  ) {
    const mb = Math.floor(maxBytes / (1024 * 1024));
    super('invalid', `The selected file is larger than ${mb} MB`, { [field]: `The selected file must be smaller than ${mb} MB. Nothing was changed.` });
  }
}

/** What one upload field accepts, in words a person understands. */
export interface UploadRule {
  field: string;
  allowed: readonly string[];
  /** "an MP4 or WebM video", for "The selected file must be …". */
  description: string;
}

/** The kind a named file claims among those allowed, or a field error saying what is accepted. */
export function claimedKind(file: MultipartFile | null, rule: UploadRule): FileKind {
  if (!file || !file.filename) throw new ValidationFailed({ [rule.field]: `Select ${rule.description} to upload` });
  const kind = kindForName(file.filename, rule.allowed);
  if (!kind) throw new ValidationFailed({ [rule.field]: `The selected file must be ${rule.description}: “${displayName(file.filename).slice(0, 80)}” is not` });
  return kind;
}

/** A new storage key for a lesson's file: random, so a replaced file never shares a name with the new one. */
export const lessonFileKey = (lessonId: number, kind: FileKind) => `lessons/${lessonId}/${randomUUID()}.${kind.extension}`;

/** Only files that uploads created are ever removed (the demo courses share their files under `demo/`). */
export const isUploadedKey = (key: string | null | undefined): key is string => !!key && key.startsWith('lessons/');

/**
 * Streams an uploaded file part into storage, checking its first bytes against the kind its name claims
 * and its size against the limit. On any failure nothing is kept, and the rest of the part is let through
 * to nowhere so the request still ends normally for the browser.
 */
export async function storeUpload(storage: FileStorage, file: MultipartFile, key: string, kind: FileKind, rule: UploadRule, maxBytes: number): Promise<StoredFile> {
  const source = file.file;
  // The parser may already have failed the part (the body was cut short) before this route got to it: its
  // 'error' and 'close' have been and gone, so there is nothing to wait for.
  if (source.destroyed || source.errored) throw new ValidationFailed({ [rule.field]: 'The upload did not finish. Try again.' });
  // A relay, so a refusal stops the write without destroying the part (which would stall the request).
  const relay = new PassThrough();
  // pipe() does not pass on a failing or aborted source: without these the write would wait for ever.
  let interrupted = false;
  source.once('error', (err) => {
    interrupted = true;
    relay.destroy(err);
  });
  source.once('close', () => {
    if (source.readableEnded) return;
    interrupted = true;
    relay.destroy(new Error('The upload stopped before the whole file arrived'));
  });
  source.pipe(relay);
  const check = requireContent(kind);
  try {
    const stored = await storage.put(key, relay, {
      maxBytes,
      inspect: (head) => {
        if (!head.length) throw new FileContentError('The selected file is empty');
        check(head);
      },
    });
    // Busboy stops at the limit and marks the part truncated rather than failing it.
    if (source.truncated) {
      await storage.remove(key);
      throw new UploadTooLarge(rule.field, maxBytes);
    }
    return stored;
  } catch (err) {
    source.unpipe(relay);
    relay.destroy();
    if (!source.readableEnded && !source.destroyed) source.resume();
    if (err instanceof UploadTooLarge) throw err;
    if (err instanceof FileTooLargeError || (err as { code?: string })?.code === 'FST_REQ_FILE_TOO_LARGE') throw new UploadTooLarge(rule.field, maxBytes);
    if (err instanceof FileContentError) throw new ValidationFailed({ [rule.field]: err.message });
    if (interrupted) throw new ValidationFailed({ [rule.field]: 'The upload did not finish. Try again.' });
    throw err;
  }
}

/**
 * The name a file downloads as: the uploaded name without any folder part, control or bidirectional
 * characters, or characters that file systems refuse; at most 160 characters, keeping its extension.
 */
export function safeFileName(name: string, extension: string): string {
  let clean = displayName(name);
  if (!clean || clean.toLowerCase() === extension.toLowerCase()) clean = `file.${extension}`;
  // The content check chose the kind by this extension: the download name keeps it.
  if (!clean.toLowerCase().endsWith(`.${extension.toLowerCase()}`)) clean = `${clean}.${extension}`;
  if (clean.length > 160) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
    clean = `${clean.slice(0, 160 - ext.length).trimEnd()}${ext}`;
  }
  return clean;
}

/** A file name as sent, made safe to show and to download as (no folders, control or look-alike characters). */
function displayName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/["*:<>?|]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
}
