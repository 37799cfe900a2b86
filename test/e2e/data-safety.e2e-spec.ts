import { DataSource, In } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LessonProgress } from '../../src/learning/entities/lesson-progress.entity';
import { LearningService } from '../../src/learning/learning.service';
import { ProgressService } from '../../src/learning/progress.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailService } from '../../src/mail/mail.service';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { QueryOutsideTransaction } from '../../src/database/transaction-scope';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { usingRealEngines } from '../support/engines';
import { course } from '../support/courses';

/**
 * Writes made beside transactions that fail are never lost. On SQLite the academy has one connection: a
 * plain write issued while another transaction is open used to run inside it and vanish with its rollback.
 */
describe('writes beside failing transactions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const pause = () => new Promise((resolve) => setTimeout(resolve, 2));

  it('keeps every session, outbox row and progress write made while other transactions roll back', async () => {
    const ds = t.app.get(DataSource);
    const uow = t.app.get(UnitOfWork, { strict: false });
    const accounts = t.app.get(AccountsService);
    const mail = t.app.get(MailService);
    const progress = t.app.get(ProgressService);
    const author = await t.signedIn('author');
    const c = await course(t, { authorId: author.userId });
    const [textLesson] = await ds.query(`SELECT id FROM lessons WHERE course_id = ? AND kind = 'text'`, [c.id]);

    const learners: number[] = [];
    for (let i = 0; i < 20; i++) {
      const user = await accounts.register({ email: uniqueEmail('writer'), password: PASSWORD, name: `Writer ${i}`, organisation: 'Test Trust', jobRole: 'Tester' });
      await t.app.get(LearningService).enrol(user.id, c.id);
      learners.push(user.id);
    }

    // Transactions that write, wait (so other work interleaves with them) and then fail.
    const failing = Array.from({ length: 20 }, (_, i) =>
      uow
        .run(async (tx) => {
          await tx.getRepository(Course).update({ id: c.id }, { summary: `changed ${i}` });
          await pause();
          await tx.getRepository(Course).update({ id: c.id }, { title: `changed ${i}` });
          await pause();
          throw new Error('this transaction fails');
        })
        .then(
          () => 'committed',
          () => 'rolled back',
        ),
    );
    // Plain transactions through the DataSource, as older code wrote them, failing too.
    const failingDirect = Array.from({ length: 5 }, () =>
      ds
        .transaction(async (tx) => {
          await tx.getRepository(Course).update({ id: c.id }, { summary: 'changed directly' });
          await pause();
          throw new Error('this one fails as well');
        })
        .catch(() => 'rolled back'),
    );
    const sessions = learners.map((id) => accounts.startSession(id, 'data-safety test'));
    const mails = learners.map((id, i) => mail.send({ to: `writer${i}@example.nhs.uk`, template: 'password-reset', dedupeKey: `data-safety:${id}`, data: { name: 'Writer', link: 'http://academy.test/x', minutes: 60 } }));
    const progressWrites = learners.map((id) => progress.markComplete(id, textLesson.id));

    expect(new Set(await Promise.all([...failing, ...failingDirect]))).toEqual(new Set(['rolled back']));
    const tokens = await Promise.all(sessions);
    await Promise.all([...mails, ...progressWrites]);

    for (const token of tokens) expect(await accounts.userForSession(token)).not.toBeNull();
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: In(learners.map((id) => `data-safety:${id}`)) })).toBe(20);
    const enrolmentIds = (await ds.getRepository(Enrolment).findBy({ courseId: c.id })).map((e) => e.id);
    expect(await ds.getRepository(LessonProgress).count({ where: { enrolmentId: In(enrolmentIds), lessonId: textLesson.id } })).toBe(20);
    const after = await ds.getRepository(Course).findOneByOrFail({ id: c.id });
    expect([after.title, after.summary]).toEqual([c.title, c.summary]);
  });

  it('never lets a write outside a transaction see, or be undone with, a transaction that fails', async () => {
    const ds = t.app.get(DataSource);
    const uow = t.app.get(UnitOfWork, { strict: false });
    const author = await t.signedIn('author');
    const c = await course(t, { authorId: author.userId });
    let seenInside = '';
    const failing = uow
      .run(async (tx) => {
        await tx.getRepository(Course).update({ id: c.id }, { summary: 'uncommitted' });
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('fails');
      })
      .catch(() => undefined);
    // Issued while the transaction is open: it must neither read its uncommitted change nor join it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const read = ds.getRepository(Course).findOneByOrFail({ id: c.id }).then((row) => (seenInside = row.summary));
    const write = ds.getRepository(Course).update({ id: c.id }, { whoFor: 'written beside it' });
    await Promise.all([failing, read, write]);
    expect(seenInside).toBe(c.summary);
    expect((await ds.getRepository(Course).findOneByOrFail({ id: c.id })).whoFor).toBe('written beside it');
  });

  it('refuses, on MySQL/MariaDB, a query sent beside the open transaction from inside it (a second pooled connection)', async () => {
    const ds = t.app.get(DataSource);
    const uow = t.app.get(UnitOfWork, { strict: false });
    const author = await t.signedIn('author');
    const c = await course(t, { authorId: author.userId });
    const seen = uow.run(async (tx) => {
      await tx.getRepository(Course).update({ id: c.id }, { summary: 'inside' });
      return (await ds.getRepository(Course).findOneByOrFail({ id: c.id })).summary;
    });
    if (usingRealEngines()) await expect(seen).rejects.toThrow(QueryOutsideTransaction);
    else expect(await seen).toBe('inside'); // the one SQLite connection: the query joins the transaction
  });
});

/**
 * Many learners enrolling on one course at the same moment: every request answered, every enrolment made,
 * the course's count exact. On MariaDB this used to deadlock (each insert's foreign-key check holds a shared
 * lock on the course row that the counter update then needs exclusively).
 */
describe('concurrent enrolments', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('enrols 200 learners at once with no 5xx and 200 rows', async () => {
    const ds = t.app.get(DataSource);
    const author = await t.signedIn('author');
    const c = await course(t, { authorId: author.userId });
    const accounts = t.app.get(AccountsService);
    // The learners are made a few at a time (each sign-up hashes a password): the race is the enrolments.
    const clients = [];
    for (let i = 0; i < 200; i++) {
      const user = await accounts.register({ email: uniqueEmail(`enrol${i}`), password: PASSWORD, name: `Learner ${i}`, organisation: 'Test Trust', jobRole: 'Tester' });
      const client = t.visitor();
      client.bearer = (await accounts.issueApiToken(user.id)).token;
      clients.push(client);
    }
    const answers = await Promise.all(clients.map((client) => client.request('POST', '/api/v1/enrolments', { json: { courseId: c.id } })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(await ds.getRepository(Enrolment).countBy({ courseId: c.id })).toBe(200);
    expect((await ds.getRepository(Course).findOneByOrFail({ id: c.id })).enrolmentCount).toBe(200);

    // The same again at once (a double submit from everyone): one enrolment each, the count unchanged.
    const again = await Promise.all(clients.map((client) => client.request('POST', '/api/v1/enrolments', { json: { courseId: c.id } })));
    expect(again.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect((await ds.getRepository(Course).findOneByOrFail({ id: c.id })).enrolmentCount).toBe(200);
  });
});
