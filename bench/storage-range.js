'use strict';

/**
 * Video Range reads through each storage driver (issue 16): a player's 256 KiB ranges at random offsets of a
 * 64 MiB video, 10 connections, served by the academy's own serveFile() over the disk driver (LocalFileStorage)
 * and over the S3 driver (S3FileStorage) talking to an S3-protocol server on this machine (s3rver, in its own
 * process). Both run in one server process, measured in alternating rounds; the figures are printed side by side
 * with their ratio. No budget: s3rver is a test server written in JavaScript, far slower than MinIO or S3, so the
 * ratio is an upper bound on what the S3 driver itself costs.
 *
 * Usable alone: `node bench/storage-range.js` (after a build); run.js calls it. Three processes: this one (the
 * load, with autocannon), the server, and s3rver; all on 127.0.0.1.
 */

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { freePort, HOST, loadNow, ROOT } = require('./lib');

const VIDEO_BYTES = 64 * 1024 * 1024;
const RANGE_BYTES = 256 * 1024;
const KEY = 'lessons/1/bench-video.mp4';
const BUCKET = 'academy-bench';
// BENCH_DIST: another build of the app than dist/ (to bench a build without replacing the one others use).
const DIST = path.resolve(process.env.BENCH_DIST || path.join(ROOT, 'dist'), 'src', 'storage');
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

// ---------- the two child processes ----------

/** s3rver on a free port, its files in a temporary folder, with the bench's bucket. */
async function runS3rver() {
  const S3rver = require('s3rver');
  const server = new S3rver({ address: HOST, port: Number(process.env.S3RVER_PORT), directory: process.env.S3RVER_DIR, silent: true, allowMismatchedSignatures: true, vhostBuckets: false, configureBuckets: [{ name: BUCKET }] });
  await server.run();
  process.send({ ready: true });
}

/** The academy's serveFile() over both drivers: GET /disk and GET /s3 serve the same video. */
async function runServer() {
  const Fastify = require('fastify');
  const { Readable } = require('node:stream');
  const { serveFile } = require(path.join(DIST, 'serve-file.js'));
  const { LocalFileStorage } = require(path.join(DIST, 'local-file-storage.js'));
  const { S3FileStorage } = require(path.join(DIST, 's3-file-storage.js'));
  const { parseStorageUrl } = require(path.join(DIST, 'storage-url.js'));
  const disk = new LocalFileStorage(process.env.DISK_ROOT);
  const s3 = new S3FileStorage(parseStorageUrl(process.env.STORAGE_URL));
  await s3.checkBucket();
  // The same bytes in both, written the way uploads are (streamed, metered).
  const chunk = Buffer.alloc(1024 * 1024);
  const video = () => Readable.from((function* () { for (let i = 0; i < VIDEO_BYTES / chunk.length; i++) yield chunk.fill(i % 251); })());
  await disk.put(KEY, video());
  await s3.put(KEY, video());
  const app = Fastify({ logger: false });
  app.get('/disk', (request, reply) => serveFile(disk, KEY, request, reply, { contentType: 'video/mp4' }));
  app.get('/s3', (request, reply) => serveFile(s3, KEY, request, reply, { contentType: 'video/mp4' }));
  await app.listen({ port: 0, host: HOST });
  process.send({ ready: true, port: app.server.address().port });
}

// ---------- the load ----------

function start(role, env) {
  const child = fork(__filename, [role], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

/** 256 KiB ranges at random 256 KiB-aligned offsets, as a player seeking and buffering asks for them. */
function measureRanges(url, settings) {
  const ranges = VIDEO_BYTES / RANGE_BYTES;
  const run = (duration) =>
    new Promise((resolve, reject) =>
      autocannon(
        {
          url,
          connections: settings.connections,
          pipelining: 1,
          duration,
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => {
                const start = Math.floor(Math.random() * ranges) * RANGE_BYTES;
                return { ...request, headers: { ...request.headers, range: `bytes=${start}-${start + RANGE_BYTES - 1}` } };
              },
            },
          ],
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      ),
    );
  return run(settings.warmupSeconds).then(() => run(settings.duration)).then((r) => ({
    reqPerSec: r.requests.average,
    mbPerSec: r.throughput.average / (1024 * 1024),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non206: r.requests.total - ((r.statusCodeStats && r.statusCodeStats['206'] && r.statusCodeStats['206'].count) || 0),
    errors: r.errors + r.timeouts,
  }));
}

async function benchStorageRange(settings = { connections: 10, duration: Number(process.env.BENCH_DURATION || 5), warmupSeconds: 2, rounds: Number(process.env.BENCH_ROUNDS || 3) }) {
  if (!fs.existsSync(path.join(DIST, 's3-file-storage.js'))) throw new Error('dist/src/storage/s3-file-storage.js not found: run "npm run build" first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'academy-bench-storage-'));
  const s3Port = await freePort();
  const s3rver = start('--s3rver', { S3RVER_PORT: String(s3Port), S3RVER_DIR: path.join(dir, 's3') });
  let server = null;
  try {
    await s3rver.ready;
    const storageUrl = `s3://${BUCKET}?endpoint=http://${HOST}:${s3Port}&forcePathStyle=true`;
    server = start('--server', { ...CREDENTIALS, STORAGE_URL: storageUrl, DISK_ROOT: path.join(dir, 'disk') });
    const { port } = await server.ready;
    const base = `http://${HOST}:${port}`;
    console.log(`\nstorage range reads: ${RANGE_BYTES / 1024} KiB ranges of a ${VIDEO_BYTES / (1024 * 1024)} MiB video, ${settings.connections} connections, ${settings.duration} s per round, median of ${settings.rounds} alternating rounds`);
    const rounds = { disk: [], s3: [] };
    for (let round = 0; round < settings.rounds; round++) {
      rounds.disk.push(await measureRanges(`${base}/disk`, settings));
      rounds.s3.push(await measureRanges(`${base}/s3`, settings));
    }
    const median = (list) => [...list].sort((a, b) => a.reqPerSec - b.reqPerSec)[Math.floor(list.length / 2)];
    const disk = median(rounds.disk);
    const s3 = median(rounds.s3);
    const row = (name, r) => `  ${name.padEnd(22)} ${r.reqPerSec.toFixed(0).padStart(8)} req/s ${r.mbPerSec.toFixed(1).padStart(8)} MB/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   non-206 ${r.non206}, errors ${r.errors}`;
    console.log(row('disk (LocalFileStorage)', disk));
    console.log(row('S3 (s3rver)', s3));
    const ratio = s3.reqPerSec / disk.reqPerSec;
    console.log(`  S3 / disk: ${(ratio * 100).toFixed(0)}% of the disk driver's rate (rounds req/s: disk ${rounds.disk.map((r) => r.reqPerSec.toFixed(0)).join(', ')}; S3 ${rounds.s3.map((r) => r.reqPerSec.toFixed(0)).join(', ')})`);
    return { rangeBytes: RANGE_BYTES, videoBytes: VIDEO_BYTES, connections: settings.connections, disk, s3, ratio, rounds, loadAverage: loadNow() };
  } finally {
    for (const child of [server && server.child, s3rver.child]) if (child && child.exitCode === null) child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { benchStorageRange };

if (require.main === module) {
  const role = process.argv[2];
  const job = role === '--s3rver' ? runS3rver() : role === '--server' ? runServer() : benchStorageRange().then(() => process.exit(0));
  job.catch((err) => {
    console.error(`storage-range: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}
