import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger, createWebApp } from '../bootstrap';
import { loadConfig } from '../config/config';

/**
 * `npm run openapi -- [FILE]`: the OpenAPI document of /api/v1 as the app serves it at /api/docs/openapi.json,
 * written to FILE (or printed). The app is assembled on a throwaway embedded database and never listens;
 * whatever DATABASE_URL or REDIS_URL say is ignored. PUBLIC_URL and ACADEMY_NAME are taken from the
 * environment (they are the document's server and title).
 */
async function main() {
  const out = process.argv[2];
  const dataDir = mkdtempSync(join(tmpdir(), 'academy-openapi-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    DEMO_DATA: 'false',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PUBLIC_URL: process.env.PUBLIC_URL,
    ACADEMY_NAME: process.env.ACADEMY_NAME,
  });
  const app = await createWebApp(config, createLogger(config));
  try {
    await app.init();
    const answer = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/api/docs/openapi.json' });
    if (answer.statusCode !== 200) throw new Error(`GET /api/docs/openapi.json answered ${answer.statusCode}`);
    const document = `${JSON.stringify(JSON.parse(answer.body), null, 2)}\n`;
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, document);
    } else {
      process.stdout.write(document);
    }
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`Could not write the OpenAPI document: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
