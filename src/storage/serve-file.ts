import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../common/errors';
import type { ByteRange, FileStorage } from './file-storage';

export interface ServeOptions {
  contentType: string;
  /** Set for downloads ("attachment" with this name); unset, the file shows inline (video, captions). */
  downloadName?: string;
}

/**
 * Sends a stored file with HTTP Range support (RFC 9110 §14), so a video player can seek: one range gets
 * 206 with Content-Range, an unsatisfiable one 416, anything else (or several ranges) the whole file.
 */
export async function serveFile(storage: FileStorage, key: string, request: FastifyRequest, reply: FastifyReply, options: ServeOptions): Promise<FastifyReply> {
  const size = await storage.size(key);
  if (size === null) throw new NotFound('The file for this lesson is missing');
  reply.header('accept-ranges', 'bytes').header('content-type', options.contentType).header('cache-control', 'private, max-age=3600');
  reply.header('content-disposition', options.downloadName ? contentDisposition(options.downloadName) : 'inline');
  const range = parseRange(request.headers.range, size);
  if (range === 'unsatisfiable') {
    return reply.status(416).header('content-range', `bytes */${size}`).send();
  }
  if (range) {
    const stream = await firstBytes(storage.open(key, range));
    reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    return reply.send(stream);
  }
  const stream = size === 0 ? '' : await firstBytes(storage.open(key));
  reply.header('content-length', size);
  return reply.send(stream);
}

/**
 * Waits for the stream's first bytes before any header is sent: a store that fails to open the file (an object
 * store gone down between the size and the read) then answers with its own error page (503), not a cut-off 200.
 */
function firstBytes(stream: Readable): Promise<Readable> {
  return new Promise((resolve, reject) => {
    // Stays attached: an error between here and the reply taking the stream must not go unhandled.
    stream.on('error', reject);
    stream.once('end', () => resolve(stream));
    stream.once('data', (chunk: Buffer) => {
      stream.pause();
      stream.unshift(chunk);
      resolve(stream);
    });
  });
}

/** One `bytes=` range, resolved against the size; null means "send it all". */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== '' && Number(match[2]) < start) return null;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
