import type { Readable } from 'node:stream';

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
 * The storage port: videos, resources and certificate PDFs live here, addressed by a key such as
 * `lessons/12/3f9c….mp4`. Writes stream (never whole in memory) and are atomic: a reader sees the whole
 * file or nothing. Local disk first (LocalFileStorage); an object-store driver would implement the same.
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
