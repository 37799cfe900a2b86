import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

/** The s3rver package has no types: the part of it these tests use. */
interface S3rverInstance {
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void>;
  httpServer?: Server;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
  type: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

/**
 * The credentials s3rver knows (its one account): the tests hand them to the SDK through the standard variables.
 * Never the instance metadata service (no credentials must mean a failure here, not a request off this machine), and
 * not the SDK's multi-line notice that its releases after January 2027 need Node 22 (the image runs Node 22; tests
 * on Node 20 compare what a process prints on stderr).
 */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export interface TestS3 {
  bucket: string;
  endpoint: string;
  /** STORAGE_URL naming the bucket on this server. */
  storageUrl: string;
  /** The environment a process needs to use it: STORAGE_URL and the credentials. */
  env: Record<string, string>;
  /** Stops answering (an outage); `start` brings the same server back on the same port with the same files. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Incomplete multipart uploads on the server, for "nothing half written" checks. */
  pendingUploads(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on a free port, its files in a temporary folder, with one bucket made.
 * s3rver 3.7 lacks two calls the storage sweep makes (ListMultipartUploads, AbortMultipartUpload): they are added
 * here over its own store of pending uploads (a folder per upload holding its key and parts).
 */
export async function startS3(bucket = 'academy-test'): Promise<TestS3> {
  // Clients in this process (the app under test, the driver's spec) read credentials the standard way.
  Object.assign(process.env, S3RVER_CREDENTIALS);
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');
  let server: S3rverInstance | null = null;

  const start = async () => {
    const instance = new S3rver({ address: '127.0.0.1', port, directory, silent: true, allowMismatchedSignatures: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
    // Before the router (the last middleware), after the one that writes plain objects out as XML.
    instance.middleware.splice(instance.middleware.length - 1, 0, async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path.replace(/\/$/, '') === `/${bucket}` && ctx.query.uploads !== undefined) {
        ctx.body = { ListMultipartUploadsResult: { Bucket: bucket, IsTruncated: false, Upload: await listUploads(uploadsDir) } };
        return;
      }
      if (ctx.method === 'DELETE' && ctx.path.startsWith(`/${bucket}/`) && ctx.query.uploadId) {
        const dir = join(uploadsDir, ctx.query.uploadId.replace(/[^\w]/g, ''));
        const known = await stat(dir).then(() => true, () => false);
        if (!known) {
          ctx.status = 404;
          ctx.body = { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' } };
          return;
        }
        await rm(dir, { recursive: true, force: true });
        ctx.status = 204;
        return;
      }
      await next();
    });
    await instance.run();
    server = instance;
  };
  const stop = async () => {
    if (!server) return;
    const running = server;
    server = null;
    // Keep-alive connections from the SDK would hold close() open: an outage cuts them.
    running.httpServer?.closeAllConnections();
    await running.close();
  };

  await start();
  const storageUrl = `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&region=eu-west-2&forcePathStyle=true`;
  return {
    bucket,
    endpoint,
    storageUrl,
    env: { STORAGE_URL: storageUrl, ...S3RVER_CREDENTIALS },
    stop,
    start,
    pendingUploads: async () => (await listUploads(uploadsDir)).length,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function listUploads(uploadsDir: string) {
  const ids = await readdir(uploadsDir).catch(() => [] as string[]);
  const uploads = [];
  for (const id of ids) {
    const keyFile = join(uploadsDir, id, 'key');
    const key = await readFile(keyFile, 'utf8').catch(() => null);
    if (key === null) continue;
    uploads.push({ Key: key, UploadId: id, Initiated: (await stat(keyFile)).mtime.toISOString() });
  }
  return uploads;
}
