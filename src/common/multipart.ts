import fastifyMultipart, { type MultipartFile } from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { DomainError } from './errors';

/**
 * Multipart forms (file uploads), streamed: nothing is buffered whole. The fields that precede the file
 * (the CSRF token first, as every upload form puts it) are read as soon as a guard needs them; the file
 * part itself stays an unread stream until a route pipes it into storage.
 */
export interface PendingUpload {
  /** The text fields sent before the file, as a urlencoded form would give them. */
  fields: Record<string, string | string[]>;
  /** The first file part, its bytes not yet read; null when the form sent no file part. */
  file: MultipartFile | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The multipart form's head, once read (see `readMultipartHead`). */
    pendingUpload?: PendingUpload;
  }
}

export async function registerMultipart(app: NestFastifyApplication, maxBytes: number): Promise<void> {
  await app.register(fastifyMultipart, {
    // One file per form, up to the configured size (busboy stops counting there and marks the file
    // truncated); a few small text fields besides.
    limits: { fileSize: maxBytes, files: 1, fields: 30, fieldSize: 100_000, parts: 40, headerPairs: 100 },
    throwFileSizeLimit: true,
  });
  // A route that refused the upload before reading it (a denial, a bad field) must still let the request body
  // flow, or a browser still sending the file never sees the answer. Busboy discards it past the size limit.
  app.getHttpAdapter().getInstance().addHook('onSend', (request, _reply, payload, done) => {
    discardUnreadUpload(request);
    done(null, payload);
  });
}

export const isMultipart = (request: FastifyRequest) => typeof request.isMultipart === 'function' && request.isMultipart();

/**
 * Reads a multipart form up to its first file part and keeps that part unread, once per request. The fields
 * become `request.body`, so the CSRF guard and `@Body()` see them as they would a urlencoded form.
 */
export async function readMultipartHead(request: FastifyRequest): Promise<PendingUpload> {
  if (request.pendingUpload) return request.pendingUpload;
  const fields: Record<string, string | string[]> = {};
  let file: MultipartFile | null = null;
  const parts = request.parts();
  for (;;) {
    const { value: part, done } = await parts.next().catch(unreadableForm);
    if (done || !part) break;
    if (part.type === 'file') {
      file = part;
      break;
    }
    const value = typeof part.value === 'string' ? part.value : String(part.value ?? '');
    const existing = fields[part.fieldname];
    fields[part.fieldname] = existing === undefined ? value : [existing, value].flat();
  }
  request.pendingUpload = { fields, file };
  request.body = fields;
  return request.pendingUpload;
}

/** The plugin's own errors (limits) carry a 4xx status; busboy's parse errors do not, and are the sender's fault. */
function unreadableForm(err: unknown): never {
  const status = (err as { statusCode?: number })?.statusCode;
  if (status && status >= 400 && status < 500) throw err;
  throw new DomainError('invalid', 'The form could not be read: it was cut short or is not a valid multipart form. Go back and send it again.');
}

/** Lets the rest of an upload that nobody read flow to nowhere (see registerMultipart). */
export function discardUnreadUpload(request: FastifyRequest): void {
  const stream = request.pendingUpload?.file?.file;
  if (stream && !stream.readableEnded && !stream.destroyed && stream.readableFlowing !== true) stream.resume();
}
