import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { provisionEngines, TestEngines } from '../support/engines';
import { freePort, run, waitForHealth } from '../support/processes';

/** Asks for a password reset through the real HTTP server, as a browser would (cookie and CSRF token). */
async function requestReset(base: string, email: string) {
  const page = await fetch(`${base}/forgot-password`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const answer = await fetch(`${base}/forgot-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: token, email }).toString(),
  });
  expect(answer.status).toBe(200);
}

describe('processes', () => {
  let engines: TestEngines;
  beforeEach(async () => {
    engines = await provisionEngines();
  });
  afterEach(() => engines.dispose());

  it('stops at boot with one line naming the bad variable, and exit code 1', async () => {
    const app = run('src/main.ts', { ...engines.env, PORT: 'eighty' });
    expect(await app.exited).toBe(1);
    expect(app.output().stderr.trim()).toBe('Invalid configuration: PORT must be a whole number between 0 and 65535 (got "eighty")');
  });

  it('creates the first administrator with npm run admin:create, and promotes an existing account', async () => {
    const args = ['--email', 'Chief@Example.nhs.uk', '--name', 'Chief Admin', '--password', 'sturdy granite lantern orchard'];
    const first = run('src/cli/admin-create.ts', engines.env, args);
    expect(await first.exited).toBe(0);
    expect(first.output().stdout).toContain('Created administrator chief@example.nhs.uk');
    const again = run('src/cli/admin-create.ts', engines.env, args);
    expect(await again.exited).toBe(0);
    expect(again.output().stdout).toContain('is now an administrator');
    const bad = run('src/cli/admin-create.ts', engines.env, ['--email', 'not-an-email', '--name', 'X', '--password', 'short']);
    expect(await bad.exited).toBe(1);
    expect(bad.output().stderr).toContain('email: Enter an e-mail address in the correct format');
  });

  it('on SIGTERM, drains first: /health/ready answers 503 while pages and /health/live are still served, then exits 0', async () => {
    const port = String(await freePort());
    const base = `http://127.0.0.1:${port}`;
    const web = run('src/main.ts', { ...engines.env, PORT: port, HOST: '127.0.0.1', PUBLIC_URL: base, SHUTDOWN_DRAIN_SECONDS: '3' });
    await waitForHealth(base, web.child);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    web.child.kill('SIGTERM');
    let ready = await fetch(`${base}/health/ready`);
    for (let i = 0; i < 20 && ready.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await fetch(`${base}/health/ready`);
    }
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/sign-in`)).status).toBe(200);
    expect(await web.exited).toBe(0);
  });

  if (!process.env.DATABASE_URL) {
    it('on embedded defaults, prints the demo accounts once, at the first start only', async () => {
      const port = String(await freePort());
      const env = { ...engines.env, DEMO_DATA: 'true', PORT: port, HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}` };
      const first = run('src/main.ts', env);
      await waitForHealth(`http://127.0.0.1:${port}`, first.child);
      await new Promise((resolve) => setTimeout(resolve, 500));
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output().stdout).toContain('Demo accounts (shown once');
      expect(first.output().stdout).toMatch(/learner\s+learner@demo\.peer-academy\.local\s+\S{12}/);
      const second = run('src/main.ts', env);
      await waitForHealth(`http://127.0.0.1:${port}`, second.child);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(second.output().stdout).not.toContain('Demo accounts');
    });
  }

  if (process.env.DATABASE_URL && process.env.REDIS_URL) {
    it('runs web and worker as separate processes on MySQL and Redis: the web enqueues, the worker delivers', async () => {
      const port = String(await freePort());
      const base = `http://127.0.0.1:${port}`;
      const shared = { ...engines.env, PUBLIC_URL: base };
      const web = run('src/main.ts', { ...shared, PROCESS_ROLE: 'web', PORT: port, HOST: '127.0.0.1' });
      await waitForHealth(base, web.child);
      const worker = run('src/main.ts', { ...shared, PROCESS_ROLE: 'worker', MIGRATE_ON_BOOT: 'false' });
      try {
        const register = await fetch(`${base}/api/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Two Processes', email: 'two@example.nhs.uk', password: 'a long enough password', organisation: 'Test Trust', jobRole: 'Tester' }),
        });
        expect(register.status).toBe(201);
        await requestReset(base, 'two@example.nhs.uk');
        const outbox = join(engines.dataDir, 'outbox');
        const deadline = Date.now() + 20000;
        // Two messages: the sign-up's address verification and the reset link.
        while (!(existsSync(outbox) && readdirSync(outbox).filter((f) => f.endsWith('.eml')).length >= 2)) {
          if (Date.now() > deadline) throw new Error(`the worker delivered nothing\nweb: ${web.output().stderr}\nworker: ${worker.output().stdout}${worker.output().stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const url = new URL(engines.env.DATABASE_URL);
        const db = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: url.username, database: url.pathname.slice(1) });
        const [rows] = await db.query("SELECT template, status FROM mail_messages WHERE to_address = 'two@example.nhs.uk' ORDER BY id");
        await db.end();
        expect(rows).toEqual([
          { template: 'verify-email', status: 'sent' },
          { template: 'password-reset', status: 'sent' },
        ]);
      } finally {
        worker.child.kill('SIGTERM');
        web.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
        expect(await web.exited).toBe(0);
      }
    });
  }
});
