import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

/**
 * The engines a test runs on, chosen by the environment like the app itself: DATABASE_URL and REDIS_URL
 * mean MySQL/MariaDB and Redis; without them, SQLite in a temporary folder and in-process jobs.
 * Each test file gets its own database and Redis key prefix, so files can run in parallel.
 */
export interface TestEngines {
  env: Record<string, string>;
  dataDir: string;
  kind: 'mysql+redis' | 'embedded';
  dispose(): Promise<void>;
}

export const usingRealEngines = () => !!process.env.DATABASE_URL;

export async function provisionEngines(): Promise<TestEngines> {
  const id = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'academy-test-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: dataDir,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DEMO_DATA: 'false',
    PUBLIC_URL: 'http://academy.test',
    // Processes the tests stop need not wait for a load balancer (processes.e2e-spec.ts tests the drain itself).
    SHUTDOWN_DRAIN_SECONDS: '0',
  };
  let dropDatabase = async () => {};
  if (process.env.DATABASE_URL) {
    const server = new URL(process.env.DATABASE_URL);
    const database = `academy_test_${id}`;
    const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    server.pathname = `/${database}`;
    env.DATABASE_URL = server.toString();
    dropDatabase = async () => {
      const conn = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await conn.end();
    };
  }
  if (process.env.REDIS_URL) {
    env.REDIS_URL = process.env.REDIS_URL;
    env.REDIS_PREFIX = `test-${id}`;
  }
  return {
    env,
    dataDir,
    kind: env.DATABASE_URL ? 'mysql+redis' : 'embedded',
    async dispose() {
      await dropDatabase();
      if (env.REDIS_URL) await deleteRedisKeys(env.REDIS_URL, `${env.REDIS_PREFIX}:*`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function deleteRedisKeys(url: string, pattern: string) {
  const { default: IORedis } = await import('ioredis');
  const redis = new IORedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
