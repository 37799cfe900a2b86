import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { AccountsService } from '../../src/accounts/accounts.service';
import type { Role } from '../../src/accounts/roles';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { DEMO_CONTENT_DIR } from '../../src/demo/demo.seeder';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { fullCourse } from '../support/courses';
import { provisionEngines, TestEngines } from '../support/engines';
import { freePort, run, waitForHealth } from '../support/processes';
import { startRoundRobinProxy, RoundRobinProxy } from '../support/round-robin-proxy';
import { startS3, TestS3 } from '../support/s3';
import { apiToken, Browser, callApi, textCourse } from '../support/scale-out';

const MP4 = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.mp4'));
/** Processes boot from the TypeScript sources, four at once on a machine that may be busy. */
const BOOT_TIMEOUT_MS = 240_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs: number, detail = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms${detail()}`);
    await sleep(100);
  }
}

if (!(process.env.DATABASE_URL && process.env.REDIS_URL)) {
  // On embedded defaults the academy is one process: SQLite is that process's file and jobs run inside it, so there is
  // no second process to prove anything with. What can be proved is that it will not be split.
  describe('scale-out on embedded defaults: the academy is one process (the suite of several needs DATABASE_URL and REDIS_URL)', () => {
    it('refuses to start a web-only process without Redis, with one line saying why', async () => {
      const engines = await provisionEngines();
      try {
        const web = run('src/main.ts', { ...engines.env, PROCESS_ROLE: 'web', PORT: '0', HOST: '127.0.0.1' });
        expect(await web.exited).toBe(1);
        expect(web.output().stderr.trim()).toBe('Invalid configuration: PROCESS_ROLE=web needs REDIS_URL (without Redis, jobs run inside the one process: use PROCESS_ROLE=all)');
      } finally {
        await engines.dispose();
      }
    }, 60_000);
  });
} else {
  describe('scale-out: two web processes and two workers, behind a round-robin proxy, on MariaDB, Redis and an S3 bucket', () => {
    let engines: TestEngines;
    let s3: TestS3;
    let proxy: RoundRobinProxy;
    let factory: TestApp;
    let db: mysql.Connection;
    const dataDirs: string[] = [];
    let webs: Array<ReturnType<typeof run> & { base: string; dataDir: string }> = [];
    let workers: Array<ReturnType<typeof run> & { dataDir: string }> = [];
    let author: { id: number; email: string; browser: Browser };
    const all = () => [...webs, ...workers];
    const logs = () => all().map((p, i) => `\n--- process ${i} (exit ${p.child.exitCode}):\n${p.output().stdout.slice(-3000)}${p.output().stderr.slice(-3000)}`).join('');

    const ownDataDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'academy-scale-out-'));
      dataDirs.push(dir);
      return dir;
    };

    /** An account written straight to the shared database (the in-process factory), then signed in over HTTP. */
    async function account(role: Role, name: string) {
      const email = uniqueEmail(role);
      const user = await factory.app.get(AccountsService).register({ email, password: PASSWORD, name, organisation: 'Test Trust', jobRole: 'Tester' }, role);
      return { id: user.id, email, browser: new Browser() };
    }

    beforeAll(async () => {
      engines = await provisionEngines();
      s3 = await startS3();
      const ports = [await freePort(), await freePort()];
      const bases = ports.map((port) => `http://127.0.0.1:${port}`);
      proxy = await startRoundRobinProxy(bases);
      // What every process of one academy shares; each has its own DATA_DIR, so no file can pass through a shared disk.
      const { DATA_DIR: _ownDisk, ...common } = engines.env;
      const shared = { ...common, ...s3.env, PUBLIC_URL: proxy.url, SHUTDOWN_DRAIN_SECONDS: '0', AUTH_RATE_LIMIT_PER_IP: '10000', AUTH_RATE_LIMIT_PER_ACCOUNT: '10000' };

      // All four at the same moment, on an empty database, each applying migrations on boot (the default).
      webs = bases.map((base, i) => {
        const dataDir = ownDataDir();
        return Object.assign(run('src/main.ts', { ...shared, PROCESS_ROLE: 'web', HOST: '127.0.0.1', PORT: String(ports[i]), DATA_DIR: dataDir, LOG_LEVEL: 'warn' }), { base, dataDir });
      });
      workers = [0, 1].map(() => {
        const dataDir = ownDataDir();
        // Debug lines say which job each worker ran.
        return Object.assign(run('src/main.ts', { ...shared, PROCESS_ROLE: 'worker', DATA_DIR: dataDir, LOG_LEVEL: 'debug', JOBS_CONCURRENCY: '2' }), { dataDir });
      });
      await Promise.all([
        ...webs.map((web) => waitForHealth(web.base, web.child, BOOT_TIMEOUT_MS).catch((err) => Promise.reject(new Error(`${web.base}: ${err.message}${logs()}`)))),
        ...workers.map((worker) =>
          until(
            'a worker said it started',
            async () => {
              if (worker.child.exitCode !== null) throw new Error(`a worker exited with ${worker.child.exitCode}${logs()}`);
              return worker.output().stdout.includes('"msg":"Worker started"');
            },
            BOOT_TIMEOUT_MS,
            logs,
          ),
        ),
      ]);

      // The data factory: in this process, on the same database, Redis prefix and bucket, consuming no jobs.
      factory = await startTestApp({ ...shared, DATA_DIR: ownDataDir(), PROCESS_ROLE: 'web' });
      const url = new URL(engines.env.DATABASE_URL);
      db = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1) });
      author = await account('author', 'Grace Hopper');
    }, BOOT_TIMEOUT_MS + 60_000);

    afterAll(async () => {
      for (const p of all()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(all().map((p) => p.exited));
      await db?.end();
      await factory?.close();
      await proxy?.close();
      await s3?.close();
      await engines?.dispose();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('boots all four together on an empty database: every process starts, and each migration is applied once', async () => {
      for (const p of all()) expect(p.child.exitCode).toBeNull();
      const [rows] = (await db.query('SELECT name FROM migrations ORDER BY id')) as unknown as [Array<{ name: string }>];
      expect(rows.map((r) => r.name).sort()).toEqual(migrations.map((m) => m.name).sort());
      expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    });

    it('plays a video uploaded through one web process from the other, with Range requests, from the bucket', async () => {
      const [first, second] = webs;
      const c = await fullCourse(factory, author.id, 'Hazards on two machines');
      await author.browser.signIn(first.base, author.email, PASSWORD);
      await author.browser.get(`${first.base}/author/lessons/${c.video.id}`);
      const uploaded = await author.browser.upload(`${first.base}/author/lessons/${c.video.id}/file`, [{ name: 'file', filename: 'Hazards explained.mp4', content: MP4, contentType: 'video/mp4' }]);
      expect(uploaded.status).toBe(303);
      const saved = await factory.app.get(DataSource).getRepository(Lesson).findOneByOrFail({ id: c.video.id });
      expect(saved.fileKey).not.toBe(c.video.fileKey);
      expect(saved).toMatchObject({ fileType: 'video/mp4', videoSeconds: 73 });

      const learner = await account('learner', 'Florence Nightingale');
      await learner.browser.signIn(second.base, learner.email, PASSWORD);
      await learner.browser.get(`${second.base}/courses/${c.course.slug}`);
      expect((await learner.browser.submit(`${second.base}/courses/${c.course.slug}/enrol`, {})).status).toBe(303);
      const video = `${second.base}/courses/${c.course.slug}/lessons/${c.video.id}/video`;
      const part = await learner.browser.get(video, { range: 'bytes=1000-263143' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 1000-263143/${MP4.length}`);
      expect(part.bytes.equals(MP4.subarray(1000, 263144))).toBe(true);
      const tail = await learner.browser.get(video, { range: 'bytes=-500' });
      expect(tail.status).toBe(206);
      expect(tail.bytes.equals(MP4.subarray(MP4.length - 500))).toBe(true);
    }, 120_000);

    it('issues each certificate once from completions through both web processes, and serves each PDF from both', async () => {
      const c = await textCourse(factory, author.id, 'Safe handover of care', 3);
      const last = c.lessons[c.lessons.length - 1];
      const learners = [];
      for (const name of ['Mary Seacole', 'Elizabeth Garrett Anderson', 'Edith Cavell', 'Agnes Hunt']) learners.push(await account('learner', name));
      const start = proxy.served.length;
      // One request at a time through the proxy, so that it alternates: five requests a learner (token, enrolment,
      // three lessons) make the course-completing request land on the two web processes in turn.
      const enrolmentIds: number[] = [];
      for (const learner of learners) {
        const token = await apiToken(proxy.url, learner.email, PASSWORD);
        const enrolled = await callApi(proxy.url, token, 'POST', '/api/v1/enrolments', { courseId: c.course.id });
        expect(enrolled.status).toBe(201);
        enrolmentIds.push(enrolled.json.id);
        for (const lesson of c.lessons) {
          const done = await callApi(proxy.url, token, 'POST', `/api/v1/lessons/${lesson.id}/complete`);
          expect(done.status).toBe(200);
          expect(done.json.courseComplete).toBe(lesson.id === last.id);
        }
      }
      const completing = proxy.served.slice(start).filter((r) => r.path === `/api/v1/lessons/${last.id}/complete`);
      expect(completing).toHaveLength(learners.length);
      expect(new Set(completing.map((r) => r.backend))).toEqual(new Set([0, 1]));

      const certificates = factory.app.get(DataSource).getRepository(Certificate);
      await until('every certificate issued', async () => (await certificates.countBy({ subjectType: 'course', subjectId: c.course.id })) === learners.length, 60_000, logs);
      await until(
        'every completion recorded as handled',
        async () => (await factory.app.get(DataSource).getRepository(Enrolment).findBy({ courseId: c.course.id })).every((e) => e.completionRecordedAt !== null),
        30_000,
        logs,
      );
      await factory.drainJobs(30_000);
      const issued = await certificates.find({ where: { subjectType: 'course', subjectId: c.course.id }, order: { id: 'ASC' } });
      // One row per enrolment, the first revision: nobody's certificate was issued twice.
      expect(issued.map((row) => row.userId).sort()).toEqual(learners.map((l) => l.id).sort());
      expect(issued.every((row) => row.revision === 1)).toBe(true);

      // Which worker ran each completion (their debug lines): every enrolment's job ran once, across the two.
      const ranBy = workers.map((w) => [...w.output().stdout.matchAll(/Job course\.completed \(course\.completed[~:](\d+)\) done/g)].map((m) => Number(m[1])));
      expect(ranBy.flat().sort((a, b) => a - b)).toEqual([...enrolmentIds].sort((a, b) => a - b));

      for (const learner of learners) {
        const certificate = issued.find((row) => row.userId === learner.id)!;
        await learner.browser.signIn(proxy.url, learner.email, PASSWORD);
        const downloads = [];
        for (const web of webs) {
          const pdf = await learner.browser.get(`${web.base}/certificates/${certificate.code}.pdf`);
          expect(pdf.status).toBe(200);
          expect(pdf.headers.get('content-type')).toBe('application/pdf');
          downloads.push(pdf.bytes);
        }
        expect(downloads[0].equals(downloads[1])).toBe(true);
        expect(createHash('sha256').update(downloads[0]).digest('hex')).toBe(certificate.sha256);
      }
    }, 180_000);

    it('shows a course published through one web process in the other one\'s catalogue search at once', async () => {
      const [first, second] = webs;
      const drafted = await textCourse(factory, author.id, 'Zeppelin hangar evacuation drills');
      await factory.app.get(DataSource).getRepository(Course).update({ id: drafted.course.id }, { status: 'draft', publishedAt: null });
      const search = async (web: { base: string }) => (await new Browser().get(`${web.base}/courses?q=zeppelin`)).body;
      // Both have the search cached now, without the course.
      expect(await search(first)).not.toContain('Zeppelin hangar evacuation drills');
      expect(await search(second)).not.toContain('Zeppelin hangar evacuation drills');

      await author.browser.get(`${first.base}/author/courses/${drafted.course.id}`);
      const published = await author.browser.submit(`${first.base}/author/courses/${drafted.course.id}/publish`, {});
      expect(published.status).toBe(303);
      expect(published.headers.get('location')).toBe(`/author/courses/${drafted.course.id}?notice=published`);
      // Well within the caches' own lifetime (10 s): only the message to every instance can have cleared the other's.
      await until('the other web process shows the course', async () => (await search(second)).includes('Zeppelin hangar evacuation drills'), 2000);
      expect(await search(first)).toContain('Zeppelin hangar evacuation drills');
    }, 60_000);

    it('shows an account change made through one web process on the other at once, and signing out everywhere ends the session on both', async () => {
      const [first, second] = webs;
      const learner = await account('learner', 'Mary Anning');
      await learner.browser.signIn(second.base, learner.email, PASSWORD);
      // The other process has seen this person, so whatever it keeps of who they are it keeps now.
      expect((await learner.browser.get(`${second.base}/account`)).body).toContain('value="Mary Anning"');
      await learner.browser.get(`${first.base}/account`);
      expect((await learner.browser.submit(`${first.base}/account/details`, { name: 'Mary Anning FRS', jobRole: 'Palaeontologist' })).status).toBe(303);
      const renamed = (await learner.browser.get(`${second.base}/account`)).body;
      expect(renamed).toContain('value="Mary Anning FRS"');
      expect(renamed).toContain('value="Palaeontologist"');

      // A second device, signed in through the other process, and seen there.
      const phone = new Browser();
      await phone.signIn(second.base, learner.email, PASSWORD);
      expect((await phone.get(`${second.base}/account`)).status).toBe(200);
      expect((await learner.browser.submit(`${first.base}/account/sign-out-everywhere`, {})).status).toBe(303);
      for (const web of webs) {
        const page = await phone.get(`${web.base}/account`);
        expect(page.status).toBe(303);
        expect(page.headers.get('location')).toMatch(/^\/sign-in/);
      }
    });

    it('reports both workers as ready on each web process', async () => {
      for (const web of webs) {
        const ready = await fetch(`${web.base}/health/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'ready', database: { status: 'up' }, redis: { status: 'up' }, workers: { status: 'up', count: 2 } });
      }
    });

    it('kept every file (videos, certificate PDFs) in the bucket: no process has one on its own disk', () => {
      for (const p of all()) expect(existsSync(join(p.dataDir, 'files'))).toBe(false);
    });

    it('sent requests to both web processes through the proxy', () => {
      expect(proxy.counts.every((count) => count > 0)).toBe(true);
    });

    it('stops every process with SIGTERM, each exiting 0', async () => {
      for (const p of all()) p.child.kill('SIGTERM');
      const codes = await Promise.all(all().map((p) => p.exited));
      expect(codes).toEqual([0, 0, 0, 0]);
    }, 60_000);
  });
}
