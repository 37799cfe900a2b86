import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { Clock } from '../../src/common/clock';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailService } from '../../src/mail/mail.service';
import { startTestApp, TestApp } from '../support/app';

const HOUR = 3600_000;

/**
 * Every expiry runs on the academy's one Clock, so it is tested by moving time, on both engine sets (sessions
 * in the database or in Redis): sessions (idle and absolute lifetime), API tokens, reset links, e-mail leases.
 */
describe('expiries follow the clock', () => {
  let t: TestApp;
  let clock: Clock;
  beforeAll(async () => {
    t = await startTestApp({ SESSION_TTL_HOURS: '12', SESSION_MAX_HOURS: '72', API_TOKEN_TTL_DAYS: '30', PASSWORD_RESET_TTL_MINUTES: '60' });
    clock = t.app.get(Clock);
  });
  afterAll(() => t?.close());

  const signedInPage = (visitor: { get(url: string): Promise<{ status: number }> }) => visitor.get('/account').then((a) => a.status);

  it('ends a session left idle longer than its lifetime, and keeps one in use', async () => {
    const idle = await t.signedIn('learner');
    const busy = await t.signedIn('learner');
    clock.travel(7 * HOUR);
    expect(await signedInPage(busy)).toBe(200); // in its second half: extended by the full lifetime
    clock.travel(6 * HOUR);
    expect(await signedInPage(idle)).toBe(303); // 13 hours without a visit
    expect(await signedInPage(busy)).toBe(200); // 6 hours since it was extended
  });

  it('ends every session at its absolute lifetime, however often it is used', async () => {
    const visitor = await t.signedIn('learner');
    for (let hours = 5; hours < 72; hours += 5) {
      clock.travel(5 * HOUR);
      expect({ hours, status: await signedInPage(visitor) }).toEqual({ hours, status: 200 });
    }
    clock.travel(3 * HOUR);
    expect(await signedInPage(visitor)).toBe(303);
  });

  it('refuses an API token past its expiry', async () => {
    const learner = await t.signedIn('learner');
    const client = await t.apiClient(learner.email, learner.password);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    clock.travel(29 * 24 * HOUR);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    clock.travel(2 * 24 * HOUR);
    expect((await client.get('/api/v1/me')).status).toBe(401);
  });

  it('refuses a password-reset link past its lifetime', async () => {
    const learner = await t.signedIn('learner');
    await t.app.get(AccountsService).requestPasswordReset(learner.email);
    const message = await t.app.get(DataSource).getRepository(MailMessage).findOneOrFail({ where: { toAddress: learner.email, template: 'password-reset' }, order: { id: 'DESC' } });
    const link = String(JSON.parse(message.payload).link);
    const path = new URL(link).pathname;
    const visitor = t.visitor();
    clock.travel(59 * 60_000);
    expect((await visitor.get(path)).status).toBe(200);
    clock.travel(2 * 60_000);
    const expired = await visitor.get(path);
    expect(expired.status).toBe(400);
    expect(expired.body).toContain('expired');
  });

  it('lets the sweep take back an e-mail whose delivery lease ran out, not one still leased', async () => {
    const ds = t.app.get(DataSource);
    const mail = t.app.get(MailService);
    await mail.send({ to: 'leased@example.nhs.uk', template: 'password-reset', dedupeKey: `expiry-lease:${Date.now()}`, data: { name: 'Lee', link: 'http://academy.test/x', minutes: 60 } });
    await t.drainJobs();
    const row = await ds.getRepository(MailMessage).findOneOrFail({ where: { toAddress: 'leased@example.nhs.uk' }, order: { id: 'DESC' } });
    // As a worker that claimed it and died leaves it: pending, leased for a while yet.
    await ds.getRepository(MailMessage).update({ id: row.id }, { status: 'pending', attempts: 1, lockedUntil: new Date(clock.now().getTime() + 10 * 60_000) });
    clock.travel(2 * 60_000);
    const swept = async () => {
      await mail.sweep();
      await t.drainJobs();
      return (await ds.getRepository(MailMessage).findOneByOrFail({ id: row.id })).status;
    };
    expect(await swept()).toBe('pending');
    clock.travel(9 * 60_000);
    expect(await swept()).toBe('sent');
  });
});
