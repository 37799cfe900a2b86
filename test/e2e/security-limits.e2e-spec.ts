import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { PasswordReset } from '../../src/accounts/entities/password-reset.entity';
import { SessionRecord } from '../../src/accounts/entities/session.entity';
import { PASSWORD_PERSONAL_MESSAGE } from '../../src/accounts/password-policy';
import { hashToken, newToken } from '../../src/accounts/session-store';
import { JSON_TOO_DEEP_MESSAGE } from '../../src/common/json-body';
import { RedisConnection } from '../../src/redis/redis.module';
import { EventStreamSlots, MAX_STREAMS_PER_SESSION, TooManyStreams } from '../../src/live/event-stream';
import { PASSWORD, startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { run } from '../support/processes';
import { saveWebinar } from '../support/webinars';

const HOUR = 3600_000;
const WEAK = ['1234567890', 'password12', 'Password123'];
const STRONG = 'granite lantern orchard seventy';

const signUpForm = (email: string, overrides: Record<string, string> = {}) => ({
  name: 'Priya Shah',
  email,
  password: PASSWORD,
  organisation: 'Leeds Teaching Hospitals NHS Trust',
  jobRole: 'Clinical safety officer',
  ...overrides,
});

/** A raw request through Fastify's inject, from a chosen peer address (inject's own is 127.0.0.1). */
function inject(t: TestApp, options: { method?: string; url: string; headers?: Record<string, string>; payload?: string; remoteAddress?: string }) {
  return t.app
    .getHttpAdapter()
    .getInstance()
    .inject({ method: (options.method ?? 'GET') as 'GET', url: options.url, headers: options.headers, payload: options.payload, remoteAddress: options.remoteAddress });
}

/** The browser that `user` signed in with, after its session has gone: only its device cookie is left. */
async function browserOf(t: TestApp, user: Visitor): Promise<Visitor> {
  const browser = t.visitor();
  browser.cookies.set('academy_device', user.cookies.get('academy_device')!);
  await browser.get('/sign-in');
  return browser;
}

/** One failed API sign-in for a new, unknown address: it counts against the caller's IP address only. */
const guess = (t: TestApp, headers: Record<string, string> = {}, remoteAddress?: string) =>
  inject(t, {
    method: 'POST',
    url: '/api/v1/auth/token',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ email: uniqueEmail('nobody'), password: 'not the password' }),
    remoteAddress,
  }).then((answer) => answer.statusCode);

async function resetLinks(t: TestApp, email: string): Promise<string[]> {
  await t.drainJobs();
  const rows: Array<{ payload: string }> = await t.app.get(DataSource).query('SELECT payload FROM mail_messages WHERE to_address = ? AND template = ? ORDER BY id ASC', [email, 'password-reset']);
  return rows.map((row) => new URL(JSON.parse(row.payload).link).pathname);
}

describe('the client address comes from X-Forwarded-For only through a trusted proxy', () => {
  describe('with no TRUSTED_PROXIES (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ AUTH_RATE_LIMIT_PER_IP: '3' });
    });
    afterAll(() => t.close());

    it('ignores a made-up X-Forwarded-For: the per-IP limit still bites', async () => {
      expect(t.config.trustedProxies).toEqual([]);
      for (let i = 1; i <= 3; i++) expect(await guess(t, { 'x-forwarded-for': `203.0.113.${i}` })).toBe(401);
      expect(await guess(t, { 'x-forwarded-for': '203.0.113.4' })).toBe(429);
      expect(await guess(t, { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' })).toBe(429);
      expect(await guess(t)).toBe(429);
    });
  });

  describe('with TRUSTED_PROXIES=10.0.0.0/8', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ AUTH_RATE_LIMIT_PER_IP: '3', TRUSTED_PROXIES: '10.0.0.0/8' });
    });
    afterAll(() => t.close());

    it('honours the header of a trusted proxy: each client behind it has its own limit', async () => {
      for (let i = 1; i <= 5; i++) expect(await guess(t, { 'x-forwarded-for': `198.51.100.${i}` }, '10.0.0.5')).toBe(401);
      for (let i = 0; i < 2; i++) expect(await guess(t, { 'x-forwarded-for': '198.51.100.1' }, '10.0.0.5')).toBe(401);
      expect(await guess(t, { 'x-forwarded-for': '198.51.100.1' }, '10.0.0.5')).toBe(429);
      // Through two trusted proxies, the client is still the first address that is not a proxy.
      expect(await guess(t, { 'x-forwarded-for': '198.51.100.1, 10.0.0.7' }, '10.0.0.5')).toBe(429);
      // A client that puts a made-up address in front of its own is still itself.
      expect(await guess(t, { 'x-forwarded-for': '192.0.2.99, 198.51.100.1' }, '10.0.0.5')).toBe(429);
      expect(await guess(t, { 'x-forwarded-for': '198.51.100.2' }, '10.0.0.5')).toBe(401);
    });

    it('ignores the header from a peer that is not a trusted proxy', async () => {
      for (let i = 1; i <= 3; i++) expect(await guess(t, { 'x-forwarded-for': `203.0.113.${i}` }, '192.0.2.10')).toBe(401);
      expect(await guess(t, { 'x-forwarded-for': '203.0.113.4' }, '192.0.2.10')).toBe(429);
      expect(await guess(t, { 'x-forwarded-for': '10.0.0.9' }, '192.0.2.10')).toBe(429);
    });
  });
});

describe('sign-in throttling that an attacker cannot turn against the owner (device cookies)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_RATE_LIMIT_PER_ACCOUNT: '3', AUTH_RATE_WINDOW_SECONDS: '900' });
  });
  afterAll(() => t.close());

  const wrongFromApi = (email: string) => t.visitor().request('POST', '/api/v1/auth/token', { json: { email, password: 'wrong password' } });

  it('gives a browser that signs in a signed, HttpOnly device cookie naming the account', async () => {
    const user = await t.signedIn();
    const device = user.cookies.get('academy_device')!;
    expect(device).toMatch(new RegExp(`^${user.userId}\\.[\\w-]{22}\\.[\\w-]{43}$`));
    const visitor = t.visitor();
    await visitor.get('/sign-in');
    const answer = await visitor.submit('/sign-in', { email: user.email, password: PASSWORD });
    const cookie = [answer.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('academy_device='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Max-Age=15552000/);
    expect(visitor.cookies.get('academy_device')).not.toBe(device);
  });

  it('lets the owner\'s own browser sign in while guesses from elsewhere have locked the account for unknown devices', async () => {
    const laptop = await t.signedIn();
    await laptop.get('/account');
    await laptop.submit('/sign-out', {});
    expect(laptop.cookies.get('academy_session')).toBeUndefined();
    expect(laptop.cookies.get('academy_device')).toBeDefined();

    // An attacker who knows the address: three wrong passwords, through the API and the page.
    expect((await wrongFromApi(laptop.email)).status).toBe(401);
    expect((await wrongFromApi(laptop.email)).status).toBe(401);
    expect((await t.visitor().submit('/sign-in', { email: laptop.email, password: 'wrong password' })).status).toBe(400);

    // Unknown devices and API clients are now refused, even with the right password.
    const stranger = await t.visitor().submit('/sign-in', { email: laptop.email, password: PASSWORD });
    expect(stranger.status).toBe(429);
    expect(stranger.body).toContain('Too many attempts');
    const api = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: laptop.email, password: PASSWORD } });
    expect(api.status).toBe(429);
    expect(Number(api.headers['retry-after'])).toBeGreaterThan(0);

    // The owner's browser still signs in, more than once.
    expect((await laptop.signIn(laptop.email, PASSWORD)).status).toBe(303);
    expect((await laptop.get('/account')).status).toBe(200);
    expect((await laptop.signIn(laptop.email, PASSWORD)).status).toBe(303);
  });

  it('treats a forged device cookie, or one for another account, as an unknown device', async () => {
    const victim = await t.signedIn();
    const attacker = await t.signedIn();
    for (let i = 0; i < 3; i++) expect((await wrongFromApi(victim.email)).status).toBe(401);

    // The attacker's own, valid device cookie names the attacker's account, not the victim's.
    expect((await (await browserOf(t, attacker)).submit('/sign-in', { email: victim.email, password: PASSWORD })).status).toBe(429);

    const [id, nonce, signature] = victim.cookies.get('academy_device')!.split('.');
    const forgeries = [
      `${id}.${nonce}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`,
      `${id}.${'x'.repeat(22)}.${signature}`,
      `${attacker.userId}.${nonce}.${signature}`,
      `${id}.${nonce}`,
      'not a device cookie',
    ];
    for (const forged of forgeries) {
      const visitor = t.visitor();
      await visitor.get('/sign-in');
      visitor.cookies.set('academy_device', forged);
      expect([forged, (await visitor.submit('/sign-in', { email: victim.email, password: PASSWORD })).status]).toEqual([forged, 429]);
    }
    // The real cookie still works.
    expect((await (await browserOf(t, victim)).submit('/sign-in', { email: victim.email, password: PASSWORD })).status).toBe(303);
  });

  it('gives each known device its own failure budget, so one device can be locked out on its own', async () => {
    const user = await t.signedIn();
    const phone = t.visitor();
    await phone.signIn(user.email, PASSWORD);
    const laptop = await browserOf(t, user);
    for (let i = 0; i < 3; i++) expect((await laptop.submit('/sign-in', { email: user.email, password: 'wrong password' })).status).toBe(400);
    const locked = await laptop.submit('/sign-in', { email: user.email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body).toContain('Too many attempts');
    // The phone and unknown devices have budgets of their own, untouched by the laptop's failures.
    expect((await (await browserOf(t, phone)).submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
    expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
  });

  it('counts failures, not sign-ins: the owner can sign in again and again from anywhere', async () => {
    const user = await t.signedIn();
    for (let i = 0; i < 5; i++) expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
    for (let i = 0; i < 5; i++) expect((await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: user.email, password: PASSWORD } })).status).toBe(201);
  });

  it('counts attempts made at once before checking them, so a burst cannot slip past the limit', async () => {
    const user = await t.signedIn();
    const statuses = await Promise.all(Array.from({ length: 8 }, () => wrongFromApi(user.email).then((a) => a.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });
});

describe('security limits on the default configuration', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  describe('passwords that are easy to guess, or hold the name or e-mail, are refused everywhere a password is set', () => {
    it('at sign-up (page and API), creating nothing, with a message that says why and what to do', async () => {
      for (const password of WEAK) {
        const email = uniqueEmail('weak');
        const page = await t.visitor().submit('/sign-up', signUpForm(email, { password }));
        expect(page.status).toBe(400);
        expect(page.body).toContain('nhsuk-error-summary');
        expect(page.body).toContain('Choose a password that is harder to guess.');
        expect(page.body).toContain('id="password-error"');
        const api = await t.visitor().request('POST', '/api/v1/auth/register', { json: signUpForm(email, { password }) });
        expect(api.status).toBe(400);
        expect(api.json().errors.password).toMatch(/^Choose a password that is harder to guess\. This is (a commonly|a frequently|similar to a commonly) used password\./);
        const [{ n }] = await ds.query('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
        expect(Number(n)).toBe(0);
      }
      const email = `priya.shah.${Date.now()}@example.nhs.uk`;
      for (const password of ['Priya Shah loves 2024!', `${email.split('@')[0]} passphrase`]) {
        const page = await t.visitor().submit('/sign-up', signUpForm(email, { password }));
        expect(page.status).toBe(400);
        expect(page.body).toContain(PASSWORD_PERSONAL_MESSAGE);
      }
      // A strong password goes through (asking for the organisation, which nobody has joined yet, as new).
      const organisation = signUpForm(email).organisation;
      expect((await t.visitor().submit('/sign-up', signUpForm(email, { password: STRONG, organisationMatched: organisation, organisationChoice: 'new' }))).status).toBe(303);
    });

    it('at password change, keeping the old password', async () => {
      const user = await t.signedIn('learner', { name: 'Jo Whitfield' });
      await user.get('/account');
      for (const newPassword of [...WEAK, 'whitfield garden party']) {
        const answer = await user.submit('/account/password', { currentPassword: PASSWORD, newPassword });
        expect(answer.status).toBe(400);
        expect(answer.body).toContain('id="newPassword-error"');
        expect(answer.body).toMatch(/Choose a password that is harder to guess|must not contain your name or e-mail address/);
      }
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
      expect((await user.submit('/account/password', { currentPassword: PASSWORD, newPassword: STRONG })).status).toBe(303);
    });

    it('at password reset, without spending the link', async () => {
      const user = await t.signedIn();
      await t.visitor().submit('/forgot-password', { email: user.email });
      const [link] = await resetLinks(t, user.email);
      const visitor = t.visitor();
      await visitor.get(link);
      for (const password of WEAK) {
        const answer = await visitor.submit(link, { password });
        expect(answer.status).toBe(400);
        expect(answer.body).toContain('Choose a password that is harder to guess.');
      }
      expect((await visitor.submit(link, { password: STRONG })).status).toBe(303);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: STRONG })).status).toBe(303);
    });

    it('at npm run admin:create, which exits 1 saying why', async () => {
      const email = uniqueEmail('chief');
      const weak = run('src/cli/admin-create.ts', t.engines.env, ['--email', email, '--name', 'Chief Admin', '--password', 'Password123']);
      expect(await weak.exited).toBe(1);
      expect(weak.output().stderr).toContain('password: Choose a password that is harder to guess.');
      const personal = run('src/cli/admin-create.ts', t.engines.env, ['--email', email, '--name', 'Chief Admin', '--password', 'the chief of all admins']);
      expect(await personal.exited).toBe(1);
      expect(personal.output().stderr).toContain(PASSWORD_PERSONAL_MESSAGE);
      const [{ n }] = await ds.query('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
      expect(Number(n)).toBe(0);
      const strong = run('src/cli/admin-create.ts', t.engines.env, ['--email', email, '--name', 'Chief Admin', '--password', STRONG]);
      expect(await strong.exited).toBe(0);
    });
  });

  describe('password-reset links', () => {
    it('a new link voids the ones sent before', async () => {
      const user = await t.signedIn();
      await t.visitor().submit('/forgot-password', { email: user.email });
      await t.visitor().submit('/forgot-password', { email: user.email });
      const [older, newer] = await resetLinks(t, user.email);
      const visitor = t.visitor();
      const page = await visitor.get(older);
      expect(page.status).toBe(400);
      expect(page.body).toContain('This link has expired');
      await visitor.get(newer);
      const refused = await visitor.submit(older, { password: STRONG });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('expired or has already been used');
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
      expect((await visitor.get(newer)).status).toBe(200);
      expect((await visitor.submit(newer, { password: STRONG })).status).toBe(303);
    });

    it('a successful reset voids every other link of the account', async () => {
      const user = await t.signedIn();
      await t.visitor().submit('/forgot-password', { email: user.email });
      const [link] = await resetLinks(t, user.email);
      // A second live link (one asked for at the same moment, say), written straight to the database.
      const other = newToken();
      await ds.getRepository(PasswordReset).insert({ userId: user.userId, tokenHash: hashToken(other), createdAt: new Date(), expiresAt: new Date(Date.now() + HOUR), usedAt: null });
      const visitor = t.visitor();
      expect((await visitor.get(`/reset-password/${other}`)).status).toBe(200);
      expect((await visitor.submit(link, { password: STRONG })).status).toBe(303);
      expect((await visitor.get(`/reset-password/${other}`)).status).toBe(400);
      expect((await visitor.submit(`/reset-password/${other}`, { password: 'another granite lantern' })).status).toBe(400);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: STRONG })).status).toBe(303);
    });

    it('a password change voids every link of the account', async () => {
      const user = await t.signedIn();
      await t.visitor().submit('/forgot-password', { email: user.email });
      const [link] = await resetLinks(t, user.email);
      expect((await t.visitor().get(link)).status).toBe(200);
      await user.get('/account');
      expect((await user.submit('/account/password', { currentPassword: PASSWORD, newPassword: STRONG })).status).toBe(303);
      const visitor = t.visitor();
      expect((await visitor.get(link)).status).toBe(400);
      expect((await visitor.submit(link, { password: 'another granite lantern' })).status).toBe(400);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: STRONG })).status).toBe(303);
    });
  });

  describe('JSON nested too deeply', () => {
    const nested = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
    const post = (url: string, payload: string) => inject(t, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

    it('is refused with a 400 before it is parsed, cheaply, and /health stays responsive', async () => {
      const body = nested(450_000);
      expect(body.length).toBeGreaterThan(900_000);
      const started = Date.now();
      const [a, b, c, health] = await Promise.all([post('/api/v1/auth/token', body), post('/api/v1/auth/register', body), post('/api/v1/webinars/1/recording/heartbeat', body), inject(t, { url: '/health' })]);
      expect(Date.now() - started).toBeLessThan(1000);
      for (const answer of [a, b, c]) {
        expect(answer.statusCode).toBe(400);
        expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(answer.json().detail).toBe(JSON_TOO_DEEP_MESSAGE);
      }
      expect(health.statusCode).toBe(200);
    });

    it('allows 32 levels and refuses 33', async () => {
      const at32 = await post('/api/v1/auth/token', `{"email":${nested(31)},"password":"x"}`);
      expect(at32.statusCode).toBe(400);
      expect(at32.json().detail).not.toBe(JSON_TOO_DEEP_MESSAGE);
      expect(at32.json().errors.email).toBeDefined();
      const at33 = await post('/api/v1/auth/token', `{"email":${nested(32)},"password":"x"}`);
      expect(at33.statusCode).toBe(400);
      expect(at33.json().detail).toBe(JSON_TOO_DEEP_MESSAGE);
    });

    it('does not count brackets inside strings, escaped quotes included', async () => {
      const email = uniqueEmail('brackets');
      const answer = await post('/api/v1/auth/token', JSON.stringify({ email, password: `"\\${'[{'.repeat(60)}\\"` }));
      expect(answer.statusCode).toBe(401);
    });

    it('still refuses __proto__ keys and bad JSON, and answers pages with the error page', async () => {
      const proto = await post('/api/v1/auth/token', '{"__proto__":{"isAdmin":true},"email":"a@b.nhs.uk","password":"x"}');
      expect(proto.statusCode).toBe(400);
      expect((await post('/api/v1/auth/token', '{"email":')).statusCode).toBe(400);
      const page = await post('/sign-in', nested(100));
      expect(page.statusCode).toBe(400);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain(JSON_TOO_DEEP_MESSAGE);
    });
  });

  describe('a query parameter given twice', () => {
    it('is answered 400 with a clear message on pages and the API, signed in or not', async () => {
      const admin = await t.signedIn('admin');
      const anonymous: Array<[string, 'page' | 'api']> = [
        ['/verify?code=a&code=b', 'page'],
        ['/verify/ABC?code=a&code=b', 'page'],
        ['/courses?topic=a&topic=b', 'page'],
        ['/courses?q=x&page=1&page=2', 'page'],
        ['/webinars?when=past&when=upcoming', 'page'],
        ['/sign-in?next=/a&next=/b', 'page'],
        ['/sign-up?next=/a&next=/b', 'page'],
        ['/unsubscribe?u=1&u=2&k=digest&x=1&s=a', 'page'],
        ['/api/v1/verify/ABC?code=a&code=b', 'api'],
        ['/api/v1/courses?level=introductory&level=advanced', 'api'],
        ['/api/v1/webinars?page=1&page=2', 'api'],
      ];
      for (const [url, kind] of anonymous) {
        const answer = await t.visitor().get(url);
        expect([url, answer.status]).toEqual([url, 400]);
        if (kind === 'api') expect(answer.json().detail).toMatch(/^The query parameter "\w+" was given more than once\. Give it once\.$/);
        else expect(answer.body).toMatch(/The query parameter &quot;\w+&quot; was given more than once\. Give it once\./);
      }
      for (const url of ['/account?notice=a&notice=b', '/admin/certificates?q=a&q=b', '/my-webinars?x=1&x=2', '/courses?level=introductory&level=introductory']) {
        const answer = await admin.get(url);
        expect([url, answer.status]).toEqual([url, 400]);
        expect(answer.body).toContain('was given more than once');
      }
      const api = await t.apiClient(admin.email, PASSWORD);
      const me = await api.get('/api/v1/me?x=1&x=2');
      expect(me.status).toBe(400);
      expect(me.json().detail).toBe('The query parameter "x" was given more than once. Give it once.');
    });

    it('once, still works', async () => {
      for (const url of ['/courses?topic=clinical-safety', '/webinars?when=past', '/verify', '/sign-in?next=/account', '/api/v1/courses?level=introductory', '/api/v1/webinars?page=1']) {
        expect([url, (await t.visitor().get(url)).status]).toEqual([url, 200]);
      }
    });
  });

  describe('caching of what signed-in people see', () => {
    it('marks pages, redirects, errors and API answers for a signed-in person no-store', async () => {
      const user = await t.signedIn();
      for (const url of ['/account', '/my-certificates', '/courses', '/sign-in', '/no-such-page']) {
        const answer = await user.get(url);
        expect([url, answer.headers['cache-control']]).toEqual([url, 'no-store']);
      }
      const api = await t.apiClient(user.email, PASSWORD);
      for (const url of ['/api/v1/me', '/api/v1/certificates', '/api/v1/no-such-thing']) expect([url, (await api.get(url)).headers['cache-control']]).toEqual([url, 'no-store']);
    });

    it('leaves deliberate caching alone, and anonymous pages as they were', async () => {
      const user = await t.signedIn();
      expect((await user.get('/assets/academy/nhsuk-frontend.css')).headers['cache-control']).toBe('public, max-age=86400');
      expect((await user.get('/public/js/video-tracking.js')).headers['cache-control']).toBe('public, max-age=3600');
      expect((await t.visitor().get('/sign-in')).headers['cache-control']).toBeUndefined();
      expect((await t.visitor().get('/courses')).headers['cache-control']).toBeUndefined();
    });
  });

  describe('absolute session lifetime (SESSION_MAX_HOURS, default 72)', () => {
    /** Makes the visitor's session look created `ageMs` ago, expiring in `expiresInMs`, in whichever store holds it. */
    async function ageSession(visitor: Visitor, ageMs: number, expiresInMs: number) {
      const id = hashToken(visitor.cookies.get('academy_session')!);
      const redis = t.app.get(RedisConnection);
      if (redis.client) {
        const key = redis.key('session', id);
        const value = JSON.parse((await redis.client.get(key))!);
        await redis.client.set(key, JSON.stringify({ ...value, createdAt: Date.now() - ageMs, expiresAt: Date.now() + expiresInMs }), 'PX', expiresInMs);
      } else {
        await ds.getRepository(SessionRecord).update({ id }, { createdAt: new Date(Date.now() - ageMs), expiresAt: new Date(Date.now() + expiresInMs) });
      }
    }

    async function expiresInMs(visitor: Visitor): Promise<number | null> {
      const id = hashToken(visitor.cookies.get('academy_session')!);
      const redis = t.app.get(RedisConnection);
      if (redis.client) {
        const ttl = await redis.client.pttl(redis.key('session', id));
        return ttl < 0 ? null : ttl;
      }
      const row = await ds.getRepository(SessionRecord).findOneBy({ id });
      return row ? row.expiresAt.getTime() - Date.now() : null;
    }

    it('ends a session 72 hours after sign-in however recently it was used', async () => {
      expect(t.config.session.maxHours).toBe(72);
      const user = await t.signedIn();
      await ageSession(user, 72 * HOUR + 60_000, HOUR);
      const answer = await user.get('/account');
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/sign-in?next=%2Faccount');
    });

    it('stops renewal at the absolute lifetime, and still renews by the full idle TTL before it', async () => {
      const late = await t.signedIn();
      await ageSession(late, 66 * HOUR, HOUR);
      expect((await late.get('/account')).status).toBe(200);
      const left = (await expiresInMs(late))!;
      expect(left).toBeGreaterThan(6 * HOUR - 120_000);
      expect(left).toBeLessThanOrEqual(6 * HOUR + 1000);

      const early = await t.signedIn();
      await ageSession(early, HOUR, HOUR);
      expect((await early.get('/account')).status).toBe(200);
      expect((await expiresInMs(early))!).toBeGreaterThan(12 * HOUR - 120_000);
    });
  });

  describe('event streams per session', () => {
    let base: string;
    let slug: string;

    beforeAll(async () => {
      await t.app.listen(0, '127.0.0.1');
      base = `127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    });

    /** Opens the live-questions stream with this cookie; resolves on the answer's head (and body, unless it is a stream). */
    async function openStream(visitor: Visitor) {
      const [host, port] = base.split(':');
      const cookie = [...visitor.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const request = httpRequest({ host, port: Number(port), path: `/webinars/${slug}/questions/stream`, headers: { cookie, accept: 'text/event-stream' } });
      request.end();
      const [response] = (await once(request, 'response')) as [IncomingMessage];
      response.setEncoding('utf8');
      let body = '';
      response.on('data', (chunk: string) => (body += chunk));
      if (response.statusCode !== 200) await once(response, 'end');
      return { status: response.statusCode, headers: response.headers, body: () => body, close: () => request.destroy() };
    }

    /** Waits until `test` passes, or fails after a few seconds. */
    async function eventually(test: () => Promise<boolean>, what: string) {
      const deadline = Date.now() + 5000;
      while (!(await test())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    it(`holds at most ${MAX_STREAMS_PER_SESSION} per session, answers the next 429, and frees a slot when a client drops`, async () => {
      const author = await t.signedIn('author');
      slug = (await saveWebinar(t, { authorId: author.userId, startsAt: new Date(Date.now() + 10 * 60_000), title: 'Streams' })).slug;
      const streams = [];
      try {
        for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) {
          const stream = await openStream(author);
          expect(stream.status).toBe(200);
          expect(stream.headers['cache-control']).toBe('no-store, no-transform');
          streams.push(stream);
        }
        const refused = await openStream(author);
        expect(refused.status).toBe(429);
        expect(refused.body()).toContain(`You have ${MAX_STREAMS_PER_SESSION} live pages open already`);

        // Another sign-in of the same person has its own streams.
        const phone = t.visitor();
        await phone.signIn(author.email, PASSWORD);
        const other = await openStream(phone);
        expect(other.status).toBe(200);
        streams.push(other);

        // An abrupt disconnect frees its slot.
        streams.shift()!.close();
        let again: Awaited<ReturnType<typeof openStream>> | undefined;
        await eventually(async () => {
          again = await openStream(author);
          if (again.status === 200) return true;
          expect(again.status).toBe(429);
          return false;
        }, 'the dropped stream to free its slot');
        streams.push(again!);
        expect((await openStream(author)).status).toBe(429);
      } finally {
        for (const stream of streams) stream.close();
      }
      // Every slot is given back once the streams end.
      await eventually(async () => {
        const stream = await openStream(author);
        stream.close();
        return stream.status === 200;
      }, 'the slots to be freed');
    });

    const withRedis = process.env.REDIS_URL ? it : it.skip;

    withRedis('counts across web instances in Redis, where a crashed instance\'s slots free themselves and a live one keeps its own', async () => {
      const redis = t.app.get(RedisConnection);
      const slots = t.app.get(EventStreamSlots);
      const holder = `session:test-${Date.now()}`;

      const crashed = new EventStreamSlots(redis);
      crashed.leaseMs = 600;
      for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) await crashed.acquire(holder);
      await expect(slots.acquire(holder)).rejects.toBeInstanceOf(TooManyStreams);
      crashed.onApplicationShutdown(); // it stops renewing, as a process that died would
      await new Promise((resolve) => setTimeout(resolve, 900));
      const mine = await slots.acquire(holder);

      const live = new EventStreamSlots(redis);
      live.leaseMs = 300;
      const held = [];
      for (let i = 1; i < MAX_STREAMS_PER_SESSION; i++) held.push(await live.acquire(holder));
      await new Promise((resolve) => setTimeout(resolve, 900)); // three leases long: its heartbeats keep them
      await expect(slots.acquire(holder)).rejects.toBeInstanceOf(TooManyStreams);
      held.pop()!();
      await eventually(async () => (await redis.client!.zcard(redis.key('streams', holder))) === MAX_STREAMS_PER_SESSION - 1, 'the release');
      const last = await slots.acquire(holder);
      for (const release of [...held, mine, last]) release();
      live.onApplicationShutdown();
      await eventually(async () => (await redis.client!.zcard(redis.key('streams', holder))) === 0, 'every slot to be freed');
    });
  });
});
