import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { FileTooLargeError } from './file-storage';

/** How many first bytes a content check sees (enough for every signature in content-check.ts). */
const HEAD_BYTES = 4100;

/** Counts and hashes bytes as they pass, stops past the limit, and hands the first bytes to a content check. */
export class MeterAndCheck extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');
  private head: Buffer[] = [];
  private headLength = 0;
  private inspected = false;

  constructor(
    private readonly maxBytes: number,
    private readonly inspect?: (head: Buffer) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(new FileTooLargeError(this.maxBytes));
    this.hash.update(chunk);
    if (!this.inspected) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < HEAD_BYTES) return done();
      try {
        this.runInspection();
      } catch (err) {
        return done(err as Error);
      }
      this.push(Buffer.concat(this.head));
      this.head = [];
      return done();
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.inspected) return done();
    try {
      this.runInspection();
    } catch (err) {
      return done(err as Error);
    }
    done(null, Buffer.concat(this.head));
  }

  private runInspection() {
    this.inspected = true;
    this.inspect?.(Buffer.concat(this.head));
  }
}
