import type { Readable } from 'node:stream';
import { ServiceUnavailable } from '../common/errors';

export interface StoredFile {
  key: string;
  bytes: number;
  sha256: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Thrown by `put` when the stream is longer than `maxBytes`; nothing is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than the ${Math.floor(maxBytes / (1024 * 1024))} MB limit`);
  }
}

/**
 * Thrown when the file store cannot be reached or cannot serve now (an object store that is down, refusing or
 * timing out): the request answers 503 and asks to try again; an upload keeps nothing.
 */
export class StorageUnavailable extends ServiceUnavailable {
  constructor(readonly reason: string) {
    super('We cannot reach the file store just now, so this file cannot be shown or saved. Try again in a minute.');
  }
}

/** The keys callers make (`lessons/12/3f9c….mp4`): letters, digits and `_.-/`, relative, never climbing out with `..`. */
export function isValidStorageKey(key: string): boolean {
  return /^[\w][\w./-]*$/.test(key) && !key.split('/').includes('..');
}

/**
 * The storage port: videos, resources and certificate PDFs live here, addressed by a key such as
 * `lessons/12/3f9c….mp4`. Writes stream (never whole in memory) and are atomic: a reader sees the whole
 * file or nothing. Local disk by default (LocalFileStorage), or an S3 bucket (S3FileStorage, STORAGE_URL); the same
 * keys on both. A store that cannot be reached makes any method fail with StorageUnavailable.
 */
export abstract class FileStorage {
  /**
   * Streams `source` to `key`, replacing what was there, and returns its size and SHA-256.
   * `inspect` sees the first bytes before anything is kept, so a content check can refuse the file.
   */
  abstract put(key: string, source: Readable, options?: { maxBytes?: number; inspect?: (head: Buffer) => void }): Promise<StoredFile>;

  /** Writes a small file already in memory (a certificate's PDF) to `key`, atomically like `put`; returns its size and SHA-256. */
  abstract putBytes(key: string, bytes: Buffer): Promise<StoredFile>;

  /** Size in bytes, or null when there is no such file. */
  abstract size(key: string): Promise<number | null>;

  /** A stream of the file, or of one byte range of it. */
  abstract open(key: string, range?: ByteRange): Readable;

  /** Removes the file; removing a missing file is not an error. */
  abstract remove(key: string): Promise<void>;

  /** Deletes what writes cut short by a crash left behind (never visible to readers), if older than `before`. */
  abstract removeAbandonedWrites(before: Date): Promise<number>;
}
