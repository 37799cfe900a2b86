import { existsSync, readdirSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailService } from '../../src/mail/mail.service';
import { startTestApp, TestApp } from '../support/app';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

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
