import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, In } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LearningService } from '../../src/learning/learning.service';
import { ProgressService } from '../../src/learning/progress.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { fullCourse } from '../support/courses';
import { usingRealEngines } from '../support/engines';
import { run } from '../support/processes';
import { startTcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

/** A completion whose job never ran (the process died between commit and enqueue), on either engine set. */
describe('certificates for completions whose job was lost', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('are issued exactly once by the sweep, however often and concurrently it runs', async () => {
    const ds = t.app.get(DataSource);
    const c = await fullCourse(t, (await t.signedIn('author')).userId);
    const learner = await t.signedIn('learner');
    const { enrolment } = await t.app.get(LearningService).enrol(learner.userId, c.course.id);
    // As the last progress write leaves it, with its course.completed job lost.
    await ds.getRepository(Enrolment).update({ id: enrolment.id }, { status: 'completed', completedAt: new Date(Date.now() - 5 * 60_000), progressPercent: 100 });
    const progress = t.app.get(ProgressService);
    await Promise.all([progress.sweepCompletions(), progress.sweepCompletions(), progress.sweepCompletions()]);
    await t.drainJobs();
    await progress.sweepCompletions();
    await t.drainJobs();
    const certificates = await ds.getRepository(Certificate).findBy({ userId: learner.userId });
    expect(certificates).toHaveLength(1);
    expect(certificates[0].status).toBe('valid');
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: `certificate-issued:${certificates[0].id}` })).toBe(1);
    expect((await ds.getRepository(Enrolment).findOneByOrFail({ id: enrolment.id })).completionRecordedAt).not.toBeNull();
  });
});

/**
 * "Never lost, never doubled", on MariaDB and Redis with separate worker processes: Redis taken away while
 * a learner completes a course, and a worker killed while it issues certificates. These need Redis and worker
 * processes, so they exist on that engine set only (as in processes.e2e-spec.ts).
 */
if (usingRealEngines() && process.env.REDIS_URL) describe('certificates survive Redis outages and killed workers (MariaDB + Redis)', () => {
  let t: TestApp;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let ds: DataSource;
  let authorId: number;
  const workers: Array<ReturnType<typeof run>> = [];

  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL!);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    // This process only serves requests and enqueues; certificates are issued by worker processes.
    t = await startTestApp({ PROCESS_ROLE: 'web', REDIS_URL: proxy.url });
    ds = t.app.get(DataSource);
    authorId = (await t.signedIn('author')).userId;
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await proxy?.close();
  });

  const startWorker = () => {
    const worker = run('src/main.ts', { ...t.engines.env, PROCESS_ROLE: 'worker', MIGRATE_ON_BOOT: 'false', JOBS_CONCURRENCY: '4' });
    workers.push(worker);
    return worker;
  };

  const validCertificates = (userIds: number[]) => ds.getRepository(Certificate).countBy({ userId: In(userIds), status: 'valid' });

  it('issues exactly one certificate for a course completed while Redis was down, once Redis is back', async () => {
    const c = await fullCourse(t, authorId);
    const learner = await t.signedIn('learner');
    const api = await t.apiClient(learner.email, learner.password);
    expect((await api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).status).toBe(201);
    await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    const [single, multiple] = c.questions;
    await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers: { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id, multiple.options[1].id] } } });
    await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`);
    for (let from = 0; from < 63; from += 10) {
      t.app.get(Clock).travel(10_000);
      await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from, to: from + 10 } });
    }

    await proxy.cut();
    // The last lesson is completed with Redis away: the write succeeds and the completion is in the database.
    t.app.get(Clock).travel(10_000);
    const last = await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from: 63, to: 73 } });
    expect(last.status).toBe(200);
    expect(last.json().courseComplete).toBe(true);
    const enrolment = await ds.getRepository(Enrolment).findOneByOrFail({ userId: learner.userId, courseId: c.course.id });
    expect(enrolment.status).toBe('completed');

    await proxy.restore();
    const worker = startWorker();
    // The sweep (every five minutes in production) finds the completion with no certificate and enqueues it.
    const progress = t.app.get(ProgressService);
    await waitFor(async () => (await progress.sweepCompletions(0)) >= 0 && (await validCertificates([learner.userId])) === 1, 60_000, 1000);
    await progress.sweepCompletions(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await ds.getRepository(Certificate).countBy({ userId: learner.userId })).toBe(1);
    const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: learner.userId });
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: `certificate-issued:${certificate.id}` })).toBe(1);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('issues each certificate exactly once when a worker is killed while issuing', async () => {
    const c = await fullCourse(t, authorId);
    const accounts = t.app.get(AccountsService);
    const learning = t.app.get(LearningService);
    const userIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const user = await accounts.register({ email: uniqueEmail('killed'), password: PASSWORD, name: `Learner ${i}`, organisation: 'Test Trust', jobRole: 'Tester' });
      const { enrolment } = await learning.enrol(user.id, c.course.id);
      await ds.getRepository(Enrolment).update({ id: enrolment.id }, { status: 'completed', completedAt: new Date(Date.now() - 60_000), progressPercent: 100 });
      userIds.push(user.id);
    }
    expect(await t.app.get(ProgressService).sweepCompletions(0)).toBeGreaterThanOrEqual(12);

    const first = startWorker();
    await waitFor(async () => (await ds.getRepository(Certificate).countBy({ userId: In(userIds) })) >= 1, 60_000, 10);
    first.child.kill('SIGKILL'); // mid-batch: some jobs are running, others waiting
    await first.exited;

    const second = startWorker();
    // Jobs the killed worker held come back once their lock expires (BullMQ's stalled-job check). A job killed
    // after recording its certificate but before asking for the e-mail leaves a valid row, so the wait is for
    // every job's last step: the e-mail recorded for each of the 12 certificates.
    const announced = async () => {
      const issued = await ds.getRepository(Certificate).findBy({ userId: In(userIds), status: 'valid' });
      return issued.length === 12 && (await ds.getRepository(MailMessage).countBy({ dedupeKey: In(issued.map((x) => `certificate-issued:${x.id}`)) })) === 12;
    };
    await waitFor(announced, 100_000, 250);
    const certificates = await ds.getRepository(Certificate).findBy({ userId: In(userIds) });
    expect(certificates).toHaveLength(12);
    expect(new Set(certificates.map((x) => x.userId)).size).toBe(12);
    const files = readdirSync(join(t.engines.dataDir, 'files', 'certificates'));
    // One PDF per certificate. (A write the kill interrupted may leave a .partial file beside it: never read.)
    for (const x of certificates) expect(files.filter((f) => f.startsWith(x.code) && f.endsWith('.pdf'))).toEqual([`${x.code}.pdf`]);
    const mails = await ds.getRepository(MailMessage).findBy({ dedupeKey: In(certificates.map((x) => `certificate-issued:${x.id}`)) });
    expect(mails).toHaveLength(12);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
