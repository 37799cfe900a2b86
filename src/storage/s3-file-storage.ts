import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger } from '@nestjs/common';
import { NotFound } from '../common/errors';
import { ConfigError } from '../config/config';
import { ByteRange, FileStorage, isValidStorageKey, StorageUnavailable, StoredFile } from './file-storage';
import { MeterAndCheck } from './meter-and-check';
import type { S3Location } from './storage-url';

/** Parts of a multipart upload: S3's smallest is 5 MiB; four in flight keep at most 32 MiB of one upload in memory. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** How long the start-up check waits for the bucket to answer before the process gives up. */
const START_CHECK_TIMEOUT_MS = 5000;

/** What the SDK's errors carry: an S3 error name and HTTP status, or a Node network error's code. */
type SdkError = Error & { code?: string; $metadata?: { httpStatusCode?: number }; Code?: string };

const isMissing = (err: unknown) => {
  const e = err as SdkError;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** The one thing to say about a failed request, for the log: an S3 error name and status, or the network error's code. */
function reasonOf(err: unknown): string {
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  // A network error's code, even where the SDK has wrapped it into the message of another error.
  const code = e?.code ?? (e instanceof AggregateError ? (e.errors[0] as SdkError)?.code : undefined) ?? /\b(E[A-Z]{4,}|ERR_[A-Z_]+)\b/.exec(e?.message ?? '')?.[1];
  if (code) return code;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return [e?.name, status ? `HTTP ${status}` : null, e?.message].filter(Boolean).join(': ') || String(err);
}

/**
 * Files in one S3 bucket (Amazon S3, MinIO, Ceph…), under the same keys as on disk. Uploads stream as multipart
 * uploads, checked and metered as they pass exactly like LocalFileStorage's; an upload that fails is aborted, so
 * only whole files are ever visible. Ranged reads are ranged GETs. Incomplete multipart uploads left by a crash
 * are what `removeAbandonedWrites` clears.
 */
export class S3FileStorage extends FileStorage {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly logger = new Logger('Storage');

  constructor(private readonly location: S3Location) {
    super();
    this.bucket = location.bucket;
    this.client = new S3Client({
      region: location.region,
      endpoint: location.endpoint ?? undefined,
      forcePathStyle: location.forcePathStyle,
      // Checksums only where S3 requires them: many S3-compatible servers refuse the newer default ones.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: true,
      maxAttempts: 3,
      // A store that does not answer must fail a request quickly (503), not hold it for minutes.
      requestHandler: { connectionTimeout: 3000, requestTimeout: 30_000 },
    });
  }

  /** Where the files are, for messages: `s3://bucket at http://minio:9000`. */
  describe(): string {
    return `bucket "${this.bucket}" at ${this.location.endpoint ?? `Amazon S3 (${this.location.region})`}`;
  }

  /**
   * Proves at start-up that the bucket exists and these credentials may use it; otherwise throws a ConfigError
   * whose one line names the problem, so a misconfigured process stops before it takes any request.
   */
  async checkBucket(timeoutMs = START_CHECK_TIMEOUT_MS): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const e = err as SdkError;
      const status = e?.$metadata?.httpStatusCode;
      const where = this.location.endpoint ?? `Amazon S3 (${this.location.region})`;
      if (e?.name === 'CredentialsProviderError') throw new ConfigError(`Cannot use STORAGE_URL: no S3 credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
      if (status === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchBucket') throw new ConfigError(`Cannot use STORAGE_URL: there is no bucket "${this.bucket}" at ${where}`);
      if (status === 403) throw new ConfigError(`Cannot use STORAGE_URL: the S3 credentials may not use bucket "${this.bucket}" at ${where} (HTTP 403)`);
      if (status === 301) throw new ConfigError(`Cannot use STORAGE_URL: bucket "${this.bucket}" is not in region ${this.location.region}`);
      if (status) throw new ConfigError(`Cannot use STORAGE_URL: bucket "${this.bucket}" at ${where} answered HTTP ${status}`);
      throw new ConfigError(`Cannot use STORAGE_URL: cannot reach the S3 endpoint ${where} (${reasonOf(err)})`);
    }
  }

  async put(key: string, source: Readable, options: { maxBytes?: number; inspect?: (head: Buffer) => void } = {}): Promise<StoredFile> {
    this.checkKey(key);
    const meter = new MeterAndCheck(options.maxBytes ?? Number.MAX_SAFE_INTEGER, options.inspect);
    // The stream's own failure (too large, refused by the content check, cut short) wins over what S3 said after it.
    let streamError: Error | null = null;
    pipeline(source, meter, (err) => {
      if (err) streamError ??= err;
    });
    // Nothing is sent before a whole part is read, and the content check runs on the first bytes: a file refused
    // by it or too large for one part never reaches the bucket; a longer one is aborted with all its parts.
    const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: meter }, partSize: PART_BYTES, queueSize: PARTS_IN_FLIGHT, leavePartsOnError: false });
    try {
      await upload.done();
    } catch (err) {
      const failure = streamError;
      meter.destroy();
      if (failure) throw failure;
      throw this.unavailable('store', key, err);
    }
    if (streamError) throw streamError;
    return { key, bytes: meter.bytes, sha256: meter.hash.digest('hex') };
  }

  async putBytes(key: string, bytes: Buffer): Promise<StoredFile> {
    this.checkKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
    } catch (err) {
      throw this.unavailable('store', key, err);
    }
    return { key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  async size(key: string): Promise<number | null> {
    this.checkKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.unavailable('read', key, err);
    }
  }

  /**
   * The port is synchronous: the stream is returned at once and fed by a (ranged) GET as soon as it answers.
   * A missing object or an unreachable store surfaces as the stream's error; a reader that stops early
   * (a player seeking elsewhere) cancels the GET.
   */
  open(key: string, range?: ByteRange): Readable {
    this.checkKey(key);
    const out = new PassThrough();
    const cancel = new AbortController();
    let body: Readable | null = null;
    out.once('close', () => {
      if (!out.readableEnded) cancel.abort();
      body?.destroy();
    });
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }), { abortSignal: cancel.signal })
      .then(
        (answer) => {
          body = answer.Body as Readable;
          if (out.destroyed) return body.destroy();
          pipeline(body, out, (err) => {
            if (err && !out.destroyed) out.destroy(this.unavailable('read', key, err));
          });
        },
        (err) => {
          if (out.destroyed) return;
          out.destroy(isMissing(err) ? new NotFound('The file you asked for is no longer stored') : this.unavailable('read', key, err));
        },
      );
    return out;
  }

  async remove(key: string): Promise<void> {
    this.checkKey(key);
    try {
      // S3 answers 204 for a key that is not there: removing is idempotent as the port requires.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw this.unavailable('remove', key, err);
    }
  }

  /** Aborts the multipart uploads begun before `before` and never completed (a process that died mid-upload). */
  async removeAbandonedWrites(before: Date): Promise<number> {
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= before) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
          removed++;
        }
        if (!page.IsTruncated) return removed;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (err) {
      throw this.unavailable('sweep', 'abandoned uploads', err);
    }
  }

  /** Every key in the bucket with its size, page by page (for `npm run storage:copy`). */
  async *list(): AsyncGenerator<{ key: string; bytes: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token }));
      for (const item of page.Contents ?? []) if (item.Key) yield { key: item.Key, bytes: item.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Closes the client's connections (on shutdown). */
  close(): void {
    this.client.destroy();
  }

  private checkKey(key: string) {
    if (!isValidStorageKey(key)) throw new Error(`Invalid storage key: ${key}`);
  }

  /** A request the store could not serve: one log line with the reason, and a 503 for whoever asked. */
  private unavailable(action: string, key: string, err: unknown): StorageUnavailable {
    if (err instanceof StorageUnavailable) return err;
    const reason = reasonOf(err);
    this.logger.warn(`Could not ${action} ${key} in ${this.describe()}: ${reason}`);
    return new StorageUnavailable(reason);
  }
}
