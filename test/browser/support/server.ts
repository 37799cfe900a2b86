import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

const ROOT = join(__dirname, '..', '..', '..');
const ENTRY = join(ROOT, 'dist', 'src', 'main.js');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Every variable the academy reads (src/config/config.ts); the server gets only the ones set below, never stray ones from the shell. */
const APP_VARIABLES = [
  'NODE_ENV', 'PROCESS_ROLE', 'HOST', 'PORT', 'PUBLIC_URL', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'SMTP_URL', 'MAIL_FROM',
  'ACADEMY_NAME', 'SESSION_SECRET', 'SESSION_TTL_HOURS', 'API_TOKEN_TTL_DAYS', 'PASSWORD_RESET_TTL_MINUTES', 'COOKIE_SECURE',
  'AUTH_RATE_LIMIT_PER_IP', 'AUTH_RATE_LIMIT_PER_ACCOUNT', 'AUTH_RATE_WINDOW_SECONDS', 'JOBS_CONCURRENCY', 'MIGRATE_ON_BOOT', 'DEMO_DATA',
  'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_SECONDS',
];

export interface RunningServer {
  /** For example http://127.0.0.1:41234 (no trailing slash). */
  baseUrl: string;
  /** 'embedded' (SQLite, in-process jobs) or 'mysql' / 'mysql+redis'. */
  engines: string;
  /** The body of the first GET /health that answered 200 (database engine, Redis and queue state). */
  health: { database?: { engine?: string }; redis?: { status?: string }; queue?: { driver?: string } } & Record<string, unknown>;
  /** Everything the server printed so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built academy (`node dist/src/main.js`) as a child process on a free port with a fresh DATA_DIR,
 * waits until GET /health answers 200, and returns its base URL. With DATABASE_URL set it creates a database
 * of its own on that server (dropped by stop()); with REDIS_URL set it uses a random key prefix (deleted by stop()).
 */
export async function startServer(extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build`);
  const id = randomBytes(4).toString('hex');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'academy-browser-'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dataDir, { recursive: true, force: true })];

  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of APP_VARIABLES) delete env[name];
  Object.assign(env, {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DEMO_DATA: 'false',
  });

  let child: ChildProcess | undefined;
  let output = '';
  let health: RunningServer['health'] = {};
  const runCleanups = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => errors.push(err));
    cleanups.length = 0;
    if (errors.length) throw new Error(`browser test clean-up failed: ${errors.map(String).join('; ')}`);
  };

  try {
    if (process.env.DATABASE_URL) env.DATABASE_URL = await createDatabase(process.env.DATABASE_URL, `academy_browser_${id}`, cleanups);
    if (process.env.REDIS_URL) {
      env.REDIS_URL = process.env.REDIS_URL;
      env.REDIS_PREFIX = `tb${id}`;
      const prefix = env.REDIS_PREFIX;
      cleanups.push(() => deleteRedisKeys(process.env.REDIS_URL!, `${prefix}:*`));
    }
    Object.assign(env, extraEnv);

    child = spawn(process.execPath, [ENTRY], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`)));

    health = await waitForHealth(baseUrl, exited, () => output);
  } catch (err) {
    if (child && child.exitCode === null && child.signalCode === null) await stopChild(child);
    await runCleanups().catch(() => undefined);
    throw err;
  }

  const running = child;
  return {
    baseUrl,
    engines: env.DATABASE_URL ? (env.REDIS_URL ? 'mysql+redis' : 'mysql') : env.REDIS_URL ? 'sqlite+redis' : 'embedded',
    health,
    output: () => output,
    async stop() {
      await stopChild(running);
      await runCleanups();
    },
  };
}

async function waitForHealth(baseUrl: string, exited: Promise<string>, output: () => string): Promise<RunningServer['health']> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitReason: string | null = null;
  void exited.then((reason) => (exitReason = reason));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exitReason) throw new Error(`The server ${exitReason} before it was ready. Its output:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.status === 200) return JSON.parse(body);
      last = `${response.status} ${body}`;
    } catch (err) {
      last = err instanceof Error ? `${err.message}${err.cause ? ` (${String(err.cause)})` : ''}` : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`GET ${baseUrl}/health did not answer 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last}). Server output:\n${output()}`);
}

/** SIGTERM, then SIGKILL if the server has not exited after STOP_TIMEOUT_MS. */
async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** A TCP port nothing listens on right now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function connectionOptions(url: URL) {
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** Creates `database` on the server DATABASE_URL names, registers its DROP as a clean-up, and returns the URL pointing at it. */
async function createDatabase(databaseUrl: string, database: string, cleanups: Array<() => Promise<void>>): Promise<string> {
  const url = new URL(databaseUrl);
  const admin = await mysql.createConnection(connectionOptions(url));
  try {
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  cleanups.push(async () => {
    const conn = await mysql.createConnection(connectionOptions(url));
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    } finally {
      await conn.end();
    }
  });
  url.pathname = `/${database}`;
  return url.toString();
}

async function deleteRedisKeys(redisUrl: string, pattern: string) {
  const { default: IORedis } = await import('ioredis');
  const redis = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
