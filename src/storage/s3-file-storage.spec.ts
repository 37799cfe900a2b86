import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, ListObjectsV2Command, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
import { startS3, TestS3 } from '../../test/support/s3';
import { NotFound } from '../common/errors';
import { ConfigError } from '../config/config';
import { FILE_KINDS, FileContentError, requireContent } from './content-check';
import { FileTooLargeError, StorageUnavailable } from './file-storage';
import { S3FileStorage } from './s3-file-storage';
import { serveFile } from './serve-file';
import { parseStorageUrl, S3Location } from './storage-url';

const read = async (stream: Readable) => Buffer.concat(await stream.toArray());
const MiB = 1024 * 1024;

/** A stream of `total` bytes in chunks of 64 KiB, the way an upload arrives. */
function streamOf(body: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < body.length; offset += 64 * 1024) yield body.subarray(offset, offset + 64 * 1024);
    })(),
  );
}

describe('S3 file storage (against s3rver)', () => {
  let s3: TestS3;
  let location: S3Location;
  let storage: S3FileStorage;
  let raw: S3Client;
  const keysInBucket = async () => ((await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((item) => item.Key);

  beforeAll(async () => {
    // The driver logs each failure it turns into a 503; the outage tests below make many on purpose.
    Logger.overrideLogger(false);
    s3 = await startS3();
    location = parseStorageUrl(s3.storageUrl) as S3Location;
    storage = new S3FileStorage(location);
    raw = new S3Client({ region: 'eu-west-2', endpoint: s3.endpoint, forcePathStyle: true });
  });
  afterAll(async () => {
    storage.close();
    raw.destroy();
    await s3.close();
  });

  it('finds the bucket at start-up', async () => {
    await expect(storage.checkBucket()).resolves.toBeUndefined();
  });

  it('streams a small file in (one PUT), reports its size and SHA-256, and reads it back whole or by range', async () => {
    const body = Buffer.from('0123456789'.repeat(1000));
    const stored = await storage.put('lessons/1/a.csv', streamOf(body));
    expect(stored).toEqual({ key: 'lessons/1/a.csv', bytes: 10_000, sha256: createHash('sha256').update(body).digest('hex') });
    expect(await storage.size('lessons/1/a.csv')).toBe(10_000);
    expect((await read(storage.open('lessons/1/a.csv'))).equals(body)).toBe(true);
    expect((await read(storage.open('lessons/1/a.csv', { start: 10, end: 14 }))).toString()).toBe('01234');
    expect((await read(storage.open('lessons/1/a.csv', { start: 9_999, end: 9_999 }))).toString()).toBe('9');
  });

  it('streams a large file as a multipart upload and reads any range of it', async () => {
    const body = randomBytes(19 * MiB);
    const stored = await storage.put('lessons/1/talk.mp4', streamOf(body), { maxBytes: 20 * MiB });
    expect(stored.bytes).toBe(body.length);
    expect(stored.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(await storage.size('lessons/1/talk.mp4')).toBe(body.length);
    const start = 8 * MiB - 100;
    expect((await read(storage.open('lessons/1/talk.mp4', { start, end: start + 256 * 1024 - 1 }))).equals(body.subarray(start, start + 256 * 1024))).toBe(true);
    expect(await s3.pendingUploads()).toBe(0);
  });

  it('refuses a file over the limit and keeps nothing: neither a small one nor the parts of a multipart upload', async () => {
    await expect(storage.put('lessons/2/big.csv', streamOf(Buffer.alloc(1200, 65)), { maxBytes: 1000 })).rejects.toBeInstanceOf(FileTooLargeError);
    await expect(storage.put('lessons/2/huge.mp4', streamOf(randomBytes(21 * MiB)), { maxBytes: 20 * MiB })).rejects.toBeInstanceOf(FileTooLargeError);
    expect(await storage.size('lessons/2/big.csv')).toBeNull();
    expect(await storage.size('lessons/2/huge.mp4')).toBeNull();
    expect((await keysInBucket()).filter((key) => key?.startsWith('lessons/2/'))).toEqual([]);
    expect(await s3.pendingUploads()).toBe(0);
  });

  it('runs the content check on the first bytes before anything is sent', async () => {
    const pdf = FILE_KINDS.pdf;
    await expect(storage.put('lessons/3/x.pdf', streamOf(Buffer.from('MZ\x90\x00 not a pdf')), { inspect: requireContent(pdf) })).rejects.toBeInstanceOf(FileContentError);
    await expect(storage.put('lessons/3/big.pdf', streamOf(Buffer.concat([Buffer.from('MZ'), randomBytes(12 * MiB)])), { inspect: requireContent(pdf) })).rejects.toBeInstanceOf(FileContentError);
    expect(await storage.size('lessons/3/x.pdf')).toBeNull();
    expect(await storage.size('lessons/3/big.pdf')).toBeNull();
    expect(await s3.pendingUploads()).toBe(0);
    const ok = await storage.put('lessons/3/y.pdf', streamOf(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10_000, 32)])), { inspect: requireContent(pdf) });
    expect(ok.bytes).toBe(10_009);
  });

  it('writes bytes already in memory, replaces them, and removes files idempotently', async () => {
    const body = Buffer.from('%PDF-1.7\n certificate');
    expect(await storage.putBytes('certificates/ABCD.pdf', body)).toEqual({ key: 'certificates/ABCD.pdf', bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    await storage.putBytes('certificates/ABCD.pdf', Buffer.from('replaced'));
    expect((await read(storage.open('certificates/ABCD.pdf'))).toString()).toBe('replaced');
    await storage.remove('certificates/ABCD.pdf');
    await storage.remove('certificates/ABCD.pdf');
    expect(await storage.size('certificates/ABCD.pdf')).toBeNull();
  });

  it('reports a missing file as no size, and as an error of the stream that reads it', async () => {
    expect(await storage.size('lessons/9/none.mp4')).toBeNull();
    await expect(read(storage.open('lessons/9/none.mp4'))).rejects.toBeInstanceOf(NotFound);
  });

  it('refuses keys that climb out or are not ours', async () => {
    await expect(storage.put('../escape.txt', streamOf(Buffer.from('x')))).rejects.toThrow('Invalid storage key');
    expect(() => storage.open('a/../../b')).toThrow('Invalid storage key');
  });

  it('aborts multipart uploads left incomplete before the cut-off, and only those', async () => {
    const begun = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'lessons/4/crashed.mp4' }));
    await raw.send(new UploadPartCommand({ Bucket: s3.bucket, Key: 'lessons/4/crashed.mp4', UploadId: begun.UploadId, PartNumber: 1, Body: randomBytes(5 * MiB) }));
    expect(await s3.pendingUploads()).toBe(1);
    expect(await storage.removeAbandonedWrites(new Date(Date.now() - 3600_000))).toBe(0);
    expect(await s3.pendingUploads()).toBe(1);
    expect(await storage.removeAbandonedWrites(new Date(Date.now() + 60_000))).toBe(1);
    expect(await s3.pendingUploads()).toBe(0);
    expect(await storage.size('lessons/4/crashed.mp4')).toBeNull();
  });

  it('lists what the bucket holds with sizes', async () => {
    await storage.putBytes('demo/list-me.txt', Buffer.from('12345'));
    const listed = [];
    for await (const item of storage.list()) listed.push(item);
    expect(listed).toContainEqual({ key: 'demo/list-me.txt', bytes: 5 });
  });

  describe('when the store is down', () => {
    beforeAll(() => s3.stop());
    afterAll(() => s3.start());

    it('fails reads, writes and removals with StorageUnavailable (a 503), never a missing file', async () => {
      await expect(storage.size('lessons/1/a.csv')).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(read(storage.open('lessons/1/a.csv', { start: 0, end: 9 }))).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(storage.put('lessons/5/new.csv', streamOf(Buffer.from('a,b\n')))).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(storage.put('lessons/5/new.mp4', streamOf(randomBytes(12 * MiB)))).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(storage.putBytes('certificates/X.pdf', Buffer.from('%PDF-'))).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(storage.remove('lessons/1/a.csv')).rejects.toBeInstanceOf(StorageUnavailable);
      await expect(storage.removeAbandonedWrites(new Date())).rejects.toBeInstanceOf(StorageUnavailable);
    });

    it('fails a download before any header is sent when the store goes down between the size and the read', async () => {
      // The size was read just before the outage: only the read meets it.
      const sized = Object.assign(Object.create(storage) as S3FileStorage, { size: async () => 10_000 });
      const reply = { sent: [] as unknown[], status: () => reply, header: () => reply, send: (body: unknown) => reply.sent.push(body) };
      const request = { headers: { range: 'bytes=0-9' } };
      await expect(serveFile(sized, 'lessons/1/a.csv', request as never, reply as never, { contentType: 'text/csv' })).rejects.toBeInstanceOf(StorageUnavailable);
      expect(reply.sent).toEqual([]);
    });

    it('stops the process at start with one line naming the unreachable endpoint', async () => {
      const error = await storage.checkBucket(2000).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(`Cannot use STORAGE_URL: cannot reach the S3 endpoint ${s3.endpoint} (ECONNREFUSED)`);
    });
  });

  it('stops the process at start with one line naming a missing bucket', async () => {
    const other = new S3FileStorage({ ...location, bucket: 'no-such-bucket' });
    const error = await other.checkBucket().catch((err: unknown) => err);
    other.close();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`Cannot use STORAGE_URL: there is no bucket "no-such-bucket" at ${s3.endpoint}`);
  });
});

describe('STORAGE_URL', () => {
  it('names a bucket, an endpoint, a region and the addressing style', () => {
    expect(parseStorageUrl('s3://academy-files?endpoint=http://minio:9000&region=eu-west-2')).toEqual({ bucket: 'academy-files', endpoint: 'http://minio:9000', region: 'eu-west-2', forcePathStyle: true });
    expect(parseStorageUrl('s3://academy.files')).toEqual({ bucket: 'academy.files', endpoint: null, region: 'us-east-1', forcePathStyle: false });
    expect(parseStorageUrl('s3://b12?endpoint=https://s3.example.org&forcePathStyle=false')).toMatchObject({ endpoint: 'https://s3.example.org', forcePathStyle: false });
  });

  it.each([
    ['files', /must look like s3:\/\/bucket/],
    ['https://bucket', /must start with s3:\/\//],
    ['s3://key:secret@bucket', /must not carry credentials/],
    ['s3://Academy_Files', /bucket of 3-63 lower-case letters.*"academy_files"|bucket of 3-63/],
    ['s3://ab', /bucket of 3-63/],
    ['s3://bucket/prefix', /no port or path/],
    ['s3://bucket?endpont=http://x:9000', /unknown parameter "endpont"/],
    ['s3://bucket?endpoint=minio:9000', /endpoint must be an http:\/\/ or https:\/\/ address/],
    ['s3://bucket?region=EU West', /region must be a region name/],
    ['s3://bucket?forcePathStyle=yes', /forcePathStyle must be true or false/],
  ])('refuses %s', (value, problem) => {
    const parsed = parseStorageUrl(value);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toMatch(problem);
  });
});
