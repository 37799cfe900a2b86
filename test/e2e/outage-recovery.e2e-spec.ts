import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { DataSource, In } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { Certificate } from '../../src/certificates/certificate.entity';
import { JobsService } from '../../src/jobs/jobs.service';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LearningService } from '../../src/learning/learning.service';
import { ProgressService } from '../../src/learning/progress.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { fullCourse } from '../support/courses';
import { usingRealEngines } from '../support/engines';
import { run } from '../support/processes';
import { startTcpProxyFor, TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

/**
 * Recovery from outages: what the database shows undone gets done, whatever the queue remembers; requests that
 * meet an unavailable dependency are answered 503; schedules Redis lost come back by themselves.
 */

const UNAVAILABLE = 'We cannot reach part of the service just now. Try again in a minute.';

/** `n` learners who completed the course a little while ago (the sweep leaves the last minute's completions to their own jobs). */
async function completedLearners(t: TestApp, courseId: number, n: number, label: string): Promise<number[]> {
  const ds = t.app.get(DataSource);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const user = await t.app.get(AccountsService).register({ email: uniqueEmail(label), password: PASSWORD, name: `Learner ${i}`, organisation: 'Test Trust', jobRole: 'Tester' });
    const { enrolment } = await t.app.get(LearningService).enrol(user.id, courseId);
    await ds.getRepository(Enrolment).update({ id: enrolment.id }, { status: 'completed', completedAt: new Date(Date.now() - 2 * 60_000), progressPercent: 100 });
    ids.push(user.id);
  }
  return ids;
}

/** True once each learner has one valid certificate and its e-mail is recorded. */
async function allAnnounced(t: TestApp, userIds: number[]): Promise<boolean> {
  const ds = t.app.get(DataSource);
  const issued = await ds.getRepository(Certificate).findBy({ userId: In(userIds), status: 'valid' });
  return issued.length === userIds.length && (await ds.getRepository(MailMessage).countBy({ dedupeKey: In(issued.map((x) => `certificate-issued:${x.id}`)) })) === userIds.length;
}

describe('work the database shows undone, after its jobs used up their retries', () => {
  const SWEEP_SECONDS = 5;
  let t: TestApp;
  beforeAll(async () => {
    // 8 tries of a certificate span 0.05 × (2^7 − 1) ≈ 6 s; the sweep runs every 5 s.
    t = await startTestApp({ JOBS_RETRY_DELAY_MS: '50', SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS) });
  });
  afterAll(() => t?.close());

  it('is done within one sweep interval of the failure ending, though the queue keeps the jobs as failed', async () => {
    const c = await fullCourse(t, (await t.signedIn('author')).userId);
    const userIds = await completedLearners(t, c.course.id, 5, 'storage-away');
    // Certificate files cannot be written (a file stands where their folder goes): every try of every job fails.
    const folder = join(t.engines.dataDir, 'files', 'certificates');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(join(t.engines.dataDir, 'files'), { recursive: true });
    writeFileSync(folder, 'in the way');
    const jobs = t.app.get(JobsService);
    const failedBefore = (await jobs.stats()).failed;
    await t.app.get(ProgressService).sweepCompletions(0);
    await waitFor(async () => (await jobs.stats()).failed >= failedBefore + 5, 30_000, 10);
    expect(await t.app.get(DataSource).getRepository(Certificate).countBy({ userId: In(userIds) })).toBe(0);

    rmSync(folder);
    await waitFor(() => allAnnounced(t, userIds), SWEEP_SECONDS * 1000 + 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, SWEEP_SECONDS * 1000));
    const certificates = await t.app.get(DataSource).getRepository(Certificate).findBy({ userId: In(userIds) });
    expect(certificates).toHaveLength(5);
    expect(new Set(certificates.map((x) => x.userId)).size).toBe(5);
  }, 60_000);
});

/** Waits until a child process has written a line matching `pattern` (its logs are JSON lines on stdout). */
async function waitForOutput(worker: ReturnType<typeof run>, pattern: RegExp, timeoutMs = 60_000) {
  await waitFor(() => {
    if (worker.child.exitCode !== null) throw new Error(`the worker exited with ${worker.child.exitCode}: ${worker.output().stderr}`);
    return pattern.test(worker.output().stdout);
  }, timeoutMs, 100);
}

/**
 * The database away from some processes while others still have theirs, on MariaDB and Redis with real worker
 * processes. A TCP proxy in front of MariaDB is cut, so the shared server other tests use stays up.
 */
if (usingRealEngines() && process.env.REDIS_URL) describe('when the database is away (MariaDB + Redis)', () => {
  let t: TestApp;
  const workers: Array<ReturnType<typeof run>> = [];

  beforeAll(async () => {
    // Serves requests and enqueues; its own database connection is never cut. A job's retry delay is set when it is
    // enqueued, so the short one the tests below need is this process's too.
    t = await startTestApp({ PROCESS_ROLE: 'web', JOBS_RETRY_DELAY_MS: '100' });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('answers requests with a valid token or session 503 with Retry-After, not 401, so clients keep their tokens', async () => {
    const proxy = await startTcpProxyFor(t.engines.env.DATABASE_URL);
    // A second web process on the same database and Redis, reaching the database through the proxy.
    const web = await startTestApp({ PROCESS_ROLE: 'web', DATABASE_URL: proxy.url, REDIS_PREFIX: t.engines.env.REDIS_PREFIX, MIGRATE_ON_BOOT: 'false' });
    try {
      const learner = await web.signedIn('learner');
      const api = await web.apiClient(learner.email, learner.password);
      expect((await api.get('/api/v1/me')).status).toBe(200);

      await proxy.cut();
      const me = await api.get('/api/v1/me');
      expect(me.status).toBe(503);
      expect(me.headers['retry-after']).toBe('60');
      expect(me.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(me.json()).toMatchObject({ status: 503, title: 'Sorry, the service is unavailable', detail: UNAVAILABLE });
      // A browser with a session: a page saying so, not a redirect to sign in (or a signed-out page).
      const page = await learner.get('/my-learning');
      expect(page.status).toBe(503);
      expect(page.headers['retry-after']).toBe('60');
      expect(page.body).toContain('Sorry, the service is unavailable');
      expect(page.body).toContain(UNAVAILABLE);
      const health = await web.visitor().get('/health');
      expect(health.status).toBe(503);
      expect(health.json()).toMatchObject({ status: 'unavailable', unavailable: ['database'], detail: 'Unavailable: the database.', database: { status: 'down' } });

      await proxy.restore();
      // The same token and session work again: nobody was signed out.
      await waitFor(async () => (await api.get('/api/v1/me')).status === 200, 15_000, 250);
      expect((await learner.get('/my-learning')).status).toBe(200);
    } finally {
      await web.close();
      await proxy.close();
    }
  }, 60_000);

  it('issues every certificate once, within one sweep interval of the database coming back, after every job had used up its retries', async () => {
    const RETRY_DELAY_MS = 100; // a certificate's 8 tries then span 0.1 × (2^7 − 1) ≈ 13 s
    const SWEEP_SECONDS = 5;
    const ds = t.app.get(DataSource);
    const proxy = await startTcpProxyFor(t.engines.env.DATABASE_URL);
    const redis = new IORedis(t.engines.env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('academy', { connection: redis, prefix: `${t.engines.env.REDIS_PREFIX}:bull` });
    try {
      const c = await fullCourse(t, (await t.signedIn('author')).userId);
      const userIds = await completedLearners(t, c.course.id, 20, 'db-away');
      const worker = run('src/main.ts', {
        ...t.engines.env,
        DATABASE_URL: proxy.url,
        PROCESS_ROLE: 'worker',
        MIGRATE_ON_BOOT: 'false',
        LOG_LEVEL: 'info',
        JOBS_RETRY_DELAY_MS: String(RETRY_DELAY_MS),
        SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS),
      });
      workers.push(worker);
      await waitForOutput(worker, /Consuming jobs/);

      // The workers lose their database; the web process still has its own and enqueues the completions.
      await proxy.cut();
      expect(await t.app.get(ProgressService).sweepCompletions(0)).toBe(20);
      const failedIssues = async () => (await queue.getJobs(['failed'])).filter((job) => job.name === 'course.completed' && job.attemptsMade === 8).length;
      await waitFor(async () => (await failedIssues()) === 20, 60_000, 250);
      expect(await ds.getRepository(Certificate).countBy({ userId: In(userIds) })).toBe(0);

      // Back: the next sweep finds the completions undone and runs the finished jobs again, whatever BullMQ keeps.
      await proxy.restore();
      // One sweep interval, plus time for 20 certificates and the pool's reconnection.
      await waitFor(() => allAnnounced(t, userIds), SWEEP_SECONDS * 1000 + 15_000, 250);
      // A further sweep or two finds nothing left to do: still one certificate each.
      await new Promise((resolve) => setTimeout(resolve, SWEEP_SECONDS * 1000 + 1000));
      const certificates = await ds.getRepository(Certificate).findBy({ userId: In(userIds) });
      expect(certificates).toHaveLength(20);
      expect(new Set(certificates.map((x) => x.userId)).size).toBe(20);
      expect((await ds.getRepository(Enrolment).findBy({ userId: In(userIds) })).every((e) => e.completionRecordedAt !== null)).toBe(true);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await queue.close();
      redis.disconnect();
      await proxy.close();
    }
  }, 150_000);
});

/** Deletes every key under this test's prefix, as a Redis restarted without its data (or a failover to an empty one) has none. */
async function emptyRedis(url: string, prefix: string) {
  const redis = new IORedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Redis away, and back without its data, on MariaDB and Redis. A TCP proxy in front of Redis is cut, and only
 * this test's own key prefix is emptied: the Redis other tests use stays up and keeps theirs.
 */
if (usingRealEngines() && process.env.REDIS_URL) describe('when Redis is away, or comes back empty (MariaDB + Redis)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  const workers: Array<ReturnType<typeof run>> = [];

  beforeAll(async () => {
    proxy = await startTcpProxyFor(process.env.REDIS_URL!);
    t = await startTestApp({ PROCESS_ROLE: 'web', REDIS_URL: proxy.url });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await proxy?.close();
  });

  it('answers signing in, signing up and signed-in pages 503 "try again in a minute", never 500, and /health names Redis', async () => {
    const learner = await t.signedIn('learner');
    const api = await t.apiClient(learner.email, learner.password);
    const visitor = t.visitor();
    await visitor.get('/sign-in');

    await proxy.cut();
    const signIn = await visitor.submit('/sign-in', { email: learner.email, password: learner.password });
    expect(signIn.status).toBe(503);
    expect(signIn.headers['retry-after']).toBe('60');
    expect(signIn.body).toContain('Sorry, the service is unavailable');
    expect(signIn.body).toContain(UNAVAILABLE);
    const token = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: learner.email, password: learner.password } });
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toBe('60');
    expect(token.json()).toMatchObject({ status: 503, detail: UNAVAILABLE });
    const signUp = await t.visitor().request('POST', '/api/v1/auth/register', { json: { name: 'New Person', email: uniqueEmail('outage'), password: PASSWORD, organisation: 'Test Trust', jobRole: 'Tester' } });
    expect(signUp.status).toBe(503);
    expect(signUp.json()).toMatchObject({ status: 503, detail: UNAVAILABLE });
    // Sessions live in Redis: a signed-in browser is told to wait, not sent to sign in again.
    const page = await learner.get('/my-learning');
    expect(page.status).toBe(503);
    expect(page.body).toContain(UNAVAILABLE);
    // Bearer tokens live in the database: the API goes on.
    expect((await api.get('/api/v1/me')).status).toBe(200);
    const health = await t.visitor().get('/health');
    expect(health.status).toBe(503);
    expect(health.json()).toMatchObject({ status: 'unavailable', unavailable: ['redis', 'queue'], detail: 'Unavailable: Redis and the job queue.', database: { status: 'up' }, redis: { status: 'down' }, queue: { status: 'down' } });

    await proxy.restore();
    await waitFor(async () => (await t.visitor().get('/health')).status === 200, 15_000, 250);
    expect((await learner.get('/my-learning')).status).toBe(200);
    await t.visitor().signIn(learner.email, learner.password);
  }, 60_000);

  it('issues every certificate once within two minutes when Redis comes back empty mid-completion, with no process restarted', async () => {
    const ds = t.app.get(DataSource);
    const prefix = t.engines.env.REDIS_PREFIX;
    const c = await fullCourse(t, (await t.signedIn('author')).userId);
    const progress = t.app.get(ProgressService);
    const complete = (n: number) => completedLearners(t, c.course.id, n, 'empty-redis');
    const before = await complete(10);
    // Production intervals (sweeps every 5 minutes): what brings the work back is the worker noticing its lost schedules.
    const worker = run('src/main.ts', { ...t.engines.env, REDIS_URL: proxy.url, PROCESS_ROLE: 'worker', MIGRATE_ON_BOOT: 'false', JOBS_CONCURRENCY: '1', LOG_LEVEL: 'info' });
    workers.push(worker);
    await waitForOutput(worker, /Consuming jobs/);

    // Ten completions are enqueued and the worker is issuing their certificates when Redis dies.
    await progress.sweepCompletions(0);
    await waitFor(async () => (await ds.getRepository(Certificate).countBy({ userId: In(before) })) >= 1, 30_000, 10);
    await proxy.cut();
    // Ten more complete while it is away: their writes succeed, their jobs cannot be enqueued.
    const during = await complete(10);
    await progress.sweepCompletions(0);
    // It comes back with none of its data: no jobs, no schedules.
    await emptyRedis(process.env.REDIS_URL!, prefix);
    await proxy.restore();
    const cameBack = Date.now();

    const userIds = [...before, ...during];
    await waitFor(() => allAnnounced(t, userIds), 120_000 - (Date.now() - cameBack), 500);
    const certificates = await ds.getRepository(Certificate).findBy({ userId: In(userIds) });
    expect(certificates).toHaveLength(20);
    expect(new Set(certificates.map((x) => x.userId)).size).toBe(20);
    // The same worker did it, and the schedules are back.
    expect(worker.child.exitCode).toBeNull();
    const redis = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    const queue = new Queue('academy', { connection: redis, prefix: `${prefix}:bull` });
    try {
      expect(await queue.getJobScheduler('every.course.completed.sweep')).toMatchObject({ every: 5 * 60_000 });
      expect(await queue.getJobScheduler('every.mail.sweep')).toMatchObject({ every: 60_000 });
    } finally {
      await queue.close();
      redis.disconnect();
    }
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 240_000);
});
