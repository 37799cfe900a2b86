import { existsSync, readdirSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { DELIVERY_LEASE_MS, MailService } from '../../src/mail/mail.service';
import { Webinar, WebinarRegistration } from '../../src/webinars/entities';
import { WebinarsService } from '../../src/webinars/webinars.service';
import { startTestApp, TestApp } from '../support/app';
import { usingRealEngines } from '../support/engines';
import { run } from '../support/processes';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';
import { saveWebinar } from '../support/webinars';

describe('e-mail over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Peer Academy <no-reply@academy.test>' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('delivers the password-reset e-mail with HTML and text parts, the academy name and a plain link', async () => {
    const user = await t.signedIn();
    await t.visitor().submit('/forgot-password', { email: user.email });
    await waitFor(() => smtp.received.some((m) => m.to && JSON.stringify(m.to).includes(user.email)));
    const mail = smtp.received.find((m) => JSON.stringify(m.to).includes(user.email))!;
    expect(mail.subject).toBe('Reset your Peer Academy password');
    expect(mail.from?.text).toContain('no-reply@academy.test');
    expect(mail.text).toMatch(/http:\/\/academy\.test\/reset-password\/[\w-]{43}/);
    expect(mail.html).toContain('href="http://academy.test/reset-password/');
    expect(mail.html).toContain('Peer Academy');
    // The server has the message a moment before the sender hears its "250 OK" and records it as sent.
    const repository = t.app.get(DataSource).getRepository(MailMessage);
    await waitFor(async () => (await repository.findOneByOrFail({ toAddress: user.email })).status === 'sent');
    const row = await repository.findOneByOrFail({ toAddress: user.email });
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it('sends one message per dedupe key, however often it is asked for', async () => {
    const mail = t.app.get(MailService);
    const request = { to: 'once@example.nhs.uk', template: 'password-reset', dedupeKey: 'test:once', data: { name: 'Once', link: 'http://academy.test/x', minutes: 60 } };
    await Promise.all([mail.send(request), mail.send(request), mail.send(request)]);
    await waitFor(() => smtp.received.some((m) => JSON.stringify(m.to).includes('once@example.nhs.uk')));
    await t.drainJobs();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('once@example.nhs.uk'))).toHaveLength(1);
  });

  it('reuses its SMTP connections rather than opening one per message', async () => {
    const mail = t.app.get(MailService);
    const before = smtp.connections();
    for (let i = 0; i < 6; i++) {
      await mail.send({ to: `pooled${i}@example.nhs.uk`, template: 'password-reset', dedupeKey: `test:pooled:${i}`, data: { name: 'Pooled', link: 'http://academy.test/x', minutes: 60 } });
      await waitFor(() => smtp.received.some((m) => JSON.stringify(m.to).includes(`pooled${i}@example.nhs.uk`)));
    }
    // Sent one after another, six messages need one connection; a transport that does not pool opens six.
    expect(smtp.connections() - before).toBeLessThanOrEqual(1);
  });

  it('sends a message once when a sweep or a second job finds it while it is being delivered', async () => {
    const mail = t.app.get(MailService);
    const repository = t.app.get(DataSource).getRepository(MailMessage);
    const message = (to: string) => ({
      dedupeKey: `test:lease:${to}`,
      toAddress: to,
      template: 'password-reset',
      payload: JSON.stringify({ name: 'Lease', link: 'http://academy.test/z', minutes: 60 }),
      status: 'pending' as const,
      attempts: 0,
      lastError: null,
      createdAt: new Date(Date.now() - 5 * 60_000),
      sentAt: null,
    });
    // Being delivered by another job (its lease runs for minutes yet): the sweep and a second job leave it alone.
    const inFlight = await repository.save({ ...message('inflight@example.nhs.uk'), attempts: 1, lockedUntil: new Date(Date.now() + 60_000) });
    await mail.sweep();
    await mail.deliver(inFlight.id);
    await t.drainJobs();
    expect(await repository.findOneByOrFail({ id: inFlight.id })).toMatchObject({ status: 'pending', attempts: 1 });
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('inflight@example.nhs.uk'))).toHaveLength(0);
    // Two jobs delivering the same message at once: one takes the lease and sends; the other does nothing.
    const raced = await repository.save(message('raced@example.nhs.uk'));
    await Promise.all([mail.deliver(raced.id), mail.deliver(raced.id), mail.deliver(raced.id)]);
    expect(await repository.findOneByOrFail({ id: raced.id })).toMatchObject({ status: 'sent', attempts: 1, lockedUntil: null });
    await waitFor(() => smtp.received.some((m) => JSON.stringify(m.to).includes('raced@example.nhs.uk')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('raced@example.nhs.uk'))).toHaveLength(1);
    // A lease left by a crashed worker expires, and the sweep then gets the message delivered.
    await repository.update({ id: inFlight.id }, { lockedUntil: new Date(Date.now() - 1000) });
    expect(await mail.sweep()).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await repository.findOneByOrFail({ id: inFlight.id })).status === 'sent');
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('inflight@example.nhs.uk'))).toHaveLength(1);
  });

  it('keeps a message the server refused as pending, and the sweep delivers it later', async () => {
    const mail = t.app.get(MailService);
    const repository = t.app.get(DataSource).getRepository(MailMessage);
    smtp.refuse(true);
    await mail.send({ to: 'later@example.nhs.uk', template: 'password-reset', dedupeKey: 'test:later', data: { name: 'Later', link: 'http://academy.test/y', minutes: 60 } });
    await waitFor(async () => (await repository.findOneByOrFail({ dedupeKey: 'test:later' })).lastError !== null);
    const pending = await repository.findOneByOrFail({ dedupeKey: 'test:later' });
    expect(pending.status).toBe('pending');
    expect(pending.lastError).toMatch(/451/);
    smtp.refuse(false);
    // As if the queue had lost the job: make it old enough for the sweep, and sweep.
    await repository.update({ id: pending.id }, { createdAt: new Date(Date.now() - 5 * 60_000) });
    expect(await mail.sweep()).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await repository.findOneByOrFail({ id: pending.id })).status === 'sent');
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('later@example.nhs.uk'))).toHaveLength(1);
  });
});

/** A real SMTP server that holds each message's answer until the test releases it: an exchange as slow as wanted. */
async function startHoldingSmtp() {
  const received: ParsedMail[] = [];
  const held: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        held.push(() => callback());
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('e-mail delivery leases', () => {
  let smtp: Awaited<ReturnType<typeof startHoldingSmtp>>;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startHoldingSmtp();
    t = await startTestApp({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    smtp.release();
    await t.close();
    await smtp.close();
  });

  const pending = (to: string, fields: Partial<MailMessage> = {}) => ({
    dedupeKey: `test:lease:${to}`,
    toAddress: to,
    template: 'password-reset',
    payload: JSON.stringify({ name: 'Lease', link: 'http://academy.test/l', minutes: 60 }),
    status: 'pending' as const,
    attempts: 0,
    lastError: null,
    createdAt: new Date(),
    sentAt: null,
    ...fields,
  });
  const copiesTo = (to: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(to)).length;

  it('keeps its lease short and renews it while a slow SMTP exchange runs, so nobody sends the message twice', async () => {
    const repository = t.app.get(DataSource).getRepository(MailMessage);
    const message = await repository.save(pending('slow@example.nhs.uk'));
    const claimedAt = Date.now();
    const delivering = t.app.get(MailService).deliver(message.id);
    await waitFor(() => copiesTo('slow@example.nhs.uk') === 1);
    const first = (await repository.findOneByOrFail({ id: message.id })).lockedUntil!.getTime();
    // Short: a worker killed now would leave the message free within seconds, not minutes.
    expect(first - claimedAt).toBeLessThanOrEqual(DELIVERY_LEASE_MS + 1000);
    // The server has still not answered: the lease has been renewed (every 5 s), and a second delivery leaves it alone.
    await waitFor(async () => (await repository.findOneByOrFail({ id: message.id })).lockedUntil!.getTime() > first, 10_000, 200);
    await t.app.get(MailService).deliver(message.id);
    smtp.release();
    await delivering;
    expect(await repository.findOneByOrFail({ id: message.id })).toMatchObject({ status: 'sent', attempts: 1, lockedUntil: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(copiesTo('slow@example.nhs.uk')).toBe(1);
  }, 30_000);

  it('delivers, soon after the lease ends and without waiting for the sweep, a message whose deliverer died holding it', async () => {
    const repository = t.app.get(DataSource).getRepository(MailMessage);
    // Claimed by a worker that was then killed: its lease runs out in a moment and nobody renews it.
    const orphan = await repository.save(pending('orphan@example.nhs.uk', { attempts: 1, lockedUntil: new Date(Date.now() + 1500) }));
    await t.app.get(MailService).deliver(orphan.id); // a retried job, finding the dead worker's lease still live
    expect(copiesTo('orphan@example.nhs.uk')).toBe(0);
    await waitFor(() => copiesTo('orphan@example.nhs.uk') === 1, 10_000, 50);
    smtp.release();
    await waitFor(async () => (await repository.findOneByOrFail({ id: orphan.id })).status === 'sent', 10_000, 50);
    expect(await repository.findOneByOrFail({ id: orphan.id })).toMatchObject({ attempts: 2, lockedUntil: null });
  }, 30_000);
});

describe('e-mail to the local outbox (no SMTP_URL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('writes each message as an .eml file, listed and readable on the admin outbox page', async () => {
    const user = await t.signedIn();
    await t.visitor().submit('/forgot-password', { email: user.email });
    await waitFor(() => existsSync(t.config.mail.outboxDir) && readdirSync(t.config.mail.outboxDir).some((f) => f.endsWith('.eml')));
    const files = readdirSync(t.config.mail.outboxDir).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const admin = await t.signedIn('admin');
    const list = await admin.get('/admin/outbox');
    expect(list.status).toBe(200);
    expect(list.body).toContain('Reset your Peer Academy password');
    expect(list.body).toContain(user.email);
    const message = await admin.get(`/admin/outbox/${files[0]}`);
    expect(message.status).toBe(200);
    expect(message.body).toContain('/reset-password/');
    expect((await admin.get('/admin/outbox/..%2F..%2Fsession-secret')).status).toBe(404);
    expect((await user.get('/admin/outbox')).status).toBe(403);
    expect((await user.get(`/admin/outbox/${files[0]}`)).status).toBe(403);
  });
});

const REGISTRANTS = 300;
/** The SMTP server takes this long to answer each message, so the wave lasts long enough to kill a worker in it. */
const ANSWER_DELAY_MS = 40;

/**
 * A real SMTP server that records each message (recipient, Message-ID, when its data had arrived) before it
 * answers: a message recorded here has been handed to SMTP, whether or not its sender lived to hear "250 OK".
 */
async function startRecordingSmtp() {
  const received: Array<{ to: string; messageId: string; at: number }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), messageId: mail.messageId ?? '', at: Date.now() });
          setTimeout(() => callback(), ANSWER_DELAY_MS);
        },
        (err) => callback(err),
      );
    },
  });
  server.on('error', () => undefined); // a killed client's connection ends abruptly
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A reminder wave worked by two worker processes, one of them killed (SIGKILL) in the middle of it, on MariaDB
 * and Redis: what it had claimed must not wait minutes for a lease to run out.
 */
if (usingRealEngines() && process.env.REDIS_URL) describe('webinar reminders when a worker dies mid-wave (MariaDB + Redis)', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startRecordingSmtp>>;
  const workers: Array<ReturnType<typeof run>> = [];

  beforeAll(async () => {
    smtp = await startRecordingSmtp();
    t = await startTestApp({ PROCESS_ROLE: 'web', SMTP_URL: smtp.url, WEBINAR_REMINDER_MINUTES: '60' });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await smtp?.close();
  });

  it('reaches every registrant within a minute of the due time; only a message the killed worker had handed to SMTP goes twice, with the same Message-ID', async () => {
    const ds = t.app.get(DataSource);
    const author = await t.signedIn('author');
    const now = new Date();
    // Registrants written straight to the tables (no passwords to hash: nobody signs in).
    const users = await ds.getRepository(User).save(
      Array.from({ length: REGISTRANTS }, (_, i) => ({ email: `registrant.${i}.${now.getTime()}@example.nhs.uk`, name: `Registrant ${i}`, passwordHash: 'x', role: 'learner' as const, organisationId: null, jobRole: 'Analyst', createdAt: now, lastSignInAt: null })),
      { chunk: 100 },
    );
    const webinar = await saveWebinar(t, { authorId: author.userId, status: 'draft', capacity: REGISTRANTS, startsAt: new Date(Date.now() + 2 * 3600_000) });
    await ds.getRepository(WebinarRegistration).insert(users.map((u) => ({ webinarId: webinar.id, userId: u.id, status: 'registered' as const, queuedAt: now, promotedAt: null, cancelledAt: null })));

    const env = { ...t.engines.env, PROCESS_ROLE: 'worker', MIGRATE_ON_BOOT: 'false', SMTP_URL: smtp.url, WEBINAR_REMINDER_MINUTES: '60', JOBS_CONCURRENCY: '4', LOG_LEVEL: 'info' };
    const [doomed, survivor] = [run('src/main.ts', env), run('src/main.ts', env)];
    workers.push(doomed, survivor);
    await waitFor(() => workers.every((w) => /Consuming jobs/.test(w.output().stdout)), 60_000, 100);

    // Published so that its 60-minute reminder falls due in a few seconds: a delayed webinars.remind job.
    const startsAt = new Date(Math.ceil((Date.now() + 60 * 60_000 + 4000) / 1000) * 1000);
    await ds.getRepository(Webinar).update({ id: webinar.id }, { startsAt });
    await t.app.get(WebinarsService).publish({ id: author.userId, email: author.email, name: 'Test author', role: 'author', jobRole: 'Tester', organisationId: null, organisationName: null, emailVerified: true }, webinar.id, t.config.webinars.reminderMinutes);
    const due = startsAt.getTime() - 60 * 60_000;

    await waitFor(() => smtp.received.length >= REGISTRANTS / 4, 60_000, 5);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // What the killed worker wrote to its socket just before dying may finish arriving a moment after it is gone.
    const killedAt = Date.now() + 250;

    const recipients = () => new Set(smtp.received.map((m) => m.to));
    await waitFor(() => recipients().size === REGISTRANTS, Math.max(0, due + 60_000 - Date.now()), 100);
    // Every message recorded as sent, and a moment more for any late second copy.
    await waitFor(async () => (await ds.getRepository(MailMessage).countBy({ template: 'webinar-reminder', status: 'sent' })) === REGISTRANTS, 30_000, 250);
    await new Promise((resolve) => setTimeout(resolve, 2000));

    for (const user of users) {
      const mine = smtp.received.filter((m) => m.to === user.email);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine[0].at - due).toBeLessThanOrEqual(60_000);
      // One message per registration, whatever was sent again: one stable Message-ID.
      expect(new Set(mine.map((m) => m.messageId)).size).toBe(1);
      expect(mine[0].messageId).toMatch(/^<mail-\d+-\d+@academy\.test>$/);
      // Twice only if the first copy had reached the SMTP server before the worker that sent it was killed.
      if (mine.length > 1) {
        expect(mine).toHaveLength(2);
        expect(mine[0].at).toBeLessThanOrEqual(killedAt);
      }
    }
    const duplicates = smtp.received.length - recipients().size;
    // At most the killed worker's jobs in flight (JOBS_CONCURRENCY).
    expect(duplicates).toBeLessThanOrEqual(4);
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  }, 180_000);
});
