import { DataSource } from 'typeorm';
import { ApiToken } from '../../src/accounts/entities/api-token.entity';
import { PasswordReset } from '../../src/accounts/entities/password-reset.entity';
import { DUPLICATE_EMAIL_MESSAGE } from '../../src/accounts/accounts.service';
import { SIGN_IN_FAILED } from '../../src/accounts/accounts.pages.controller';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { createOrganisation } from '../support/organisations';

const signUpForm = (email: string, overrides: Record<string, string> = {}) => ({
  name: 'Priya Shah',
  email,
  password: PASSWORD,
  organisation: 'Leeds Teaching Hospitals NHS Trust',
  jobRole: 'Clinical safety officer',
  ...overrides,
});

/** The reset link in the newest password-reset message to this address, read from the outbox table. */
async function resetLinkFor(t: TestApp, email: string): Promise<string> {
  await t.drainJobs();
  const rows: Array<{ payload: string }> = await t.app.get(DataSource).query('SELECT payload FROM mail_messages WHERE to_address = ? AND template = ? ORDER BY id DESC', [email, 'password-reset']);
  expect(rows.length).toBeGreaterThan(0);
  return new URL(JSON.parse(rows[0].payload).link).pathname;
}

describe('accounts: sign up, sign in, sign out, passwords, sessions and API tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // The organisation the sign-up form names, so the form takes it at once (the picker has tests of its own: joining.e2e-spec).
    await createOrganisation(t, { name: 'Leeds Teaching Hospitals NHS Trust' });
  });
  afterAll(() => t.close());

  describe('sign up', () => {
    it('creates a learner account, signs it in with a fresh session and shows the account page', async () => {
      const visitor = t.visitor();
      await visitor.get('/sign-up');
      const email = uniqueEmail('signup');
      const answer = await visitor.submit('/sign-up', signUpForm(email.toUpperCase()));
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/my-learning');
      const account = await visitor.get('/account');
      expect(account.status).toBe(200);
      expect(account.body).toContain('Priya Shah');
      expect(account.body).toContain(email);
      expect(account.body).toContain('Leeds Teaching Hospitals NHS Trust');
      expect(account.body).toContain('Learner');
    });

    it('stores the password as an argon2id hash', async () => {
      const email = uniqueEmail('hash');
      await t.visitor().submit('/sign-up', signUpForm(email));
      const [row] = await t.app.get(DataSource).query('SELECT password_hash FROM users WHERE email = ?', [email]);
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
    });

    it('joins people from the same organisation to one organisation, whatever the case and spacing', async () => {
      const a = uniqueEmail('org');
      const b = uniqueEmail('org');
      // A new organisation, asked for by the first and then by the second (it waits for an administrator meanwhile).
      const asking = (organisation: string) => ({ organisation, organisationMatched: organisation, organisationChoice: 'new' });
      expect((await t.visitor().submit('/sign-up', signUpForm(a, asking('NHS Kirklees  Place')))).status).toBe(303);
      expect((await t.visitor().submit('/sign-up', signUpForm(b, asking('nhs kirklees place')))).status).toBe(303);
      const rows = await t.app.get(DataSource).query('SELECT DISTINCT organisation_id FROM users WHERE email IN (?, ?)', [a, b]);
      expect(rows).toHaveLength(1);
    });

    it('refuses a duplicate e-mail with a 400 and a message that does not confirm whose account it is', async () => {
      const email = uniqueEmail('dup');
      await t.visitor().submit('/sign-up', signUpForm(email));
      const answer = await t.visitor().submit('/sign-up', signUpForm(email.toUpperCase(), { name: 'Someone Else' }));
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('There is a problem');
      expect(answer.body).toContain(DUPLICATE_EMAIL_MESSAGE);
      const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
      expect(Number(n)).toBe(1);
    });

    it('re-renders the form with the NHS error summary and an inline message per field', async () => {
      const answer = await t.visitor().submit('/sign-up', { name: '', email: 'not-an-email', password: 'short', organisation: 'X', jobRole: '' });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('nhsuk-error-summary');
      for (const field of ['name', 'email', 'password', 'organisation', 'jobRole']) {
        expect(answer.body).toContain(`href="#${field}"`);
        expect(answer.body).toContain(`id="${field}-error"`);
      }
      expect(answer.body).toContain('Your password must be at least 10 characters');
      expect(answer.body).toContain('value="not-an-email"');
      expect(answer.body).not.toContain('value="short"');
    });

    it('refuses a form without a CSRF token, and one with a forged token, creating nothing', async () => {
      const email = uniqueEmail('csrf');
      const visitor = t.visitor();
      await visitor.get('/sign-up');
      const missing = await visitor.submit('/sign-up', signUpForm(email), { withCsrf: false });
      expect(missing.status).toBe(403);
      expect(missing.body).toContain('This form has expired');
      const forged = await visitor.request('POST', '/sign-up', { form: { ...signUpForm(email), _csrf: 'x'.repeat(43) } });
      expect(forged.status).toBe(403);
      const stranger = t.visitor();
      const crossSite = await stranger.request('POST', '/sign-up', { form: { ...signUpForm(email), _csrf: visitor.csrf } });
      expect(crossSite.status).toBe(403);
      const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
      expect(Number(n)).toBe(0);
    });
  });

  describe('sign in and out', () => {
    it('signs in with the right password, with a new session id and CSRF secret, and redirects to a local next page only', async () => {
      const user = await t.signedIn('learner');
      const visitor = t.visitor();
      await visitor.get('/sign-in');
      const before = new Map(visitor.cookies);
      const answer = await visitor.submit('/sign-in', { email: user.email, password: PASSWORD, next: '/account' });
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/account');
      expect(visitor.cookies.get('academy_session')).toBeDefined();
      expect(visitor.cookies.get('academy_csrf')).not.toBe(before.get('academy_csrf'));
      for (const next of ['//evil.example/', 'https://evil.example', '/\\evil.example', '/\\/evil.example', 'javascript:alert(1)', '/\tevil', ' /courses', 'courses', '']) {
        const evil = t.visitor();
        await evil.get('/sign-in');
        const redirect = await evil.submit('/sign-in', { email: user.email, password: PASSWORD, next });
        expect({ next, location: redirect.headers.location }).toEqual({ next, location: '/my-learning' });
      }
    });

    it('lands where the visitor was going, even after a wrong password, and otherwise on My learning, never on the change-password form', async () => {
      const user = await t.signedIn();
      // No next: My learning.
      const plain = t.visitor();
      await plain.get('/sign-in');
      expect((await plain.submit('/sign-in', { email: user.email, password: PASSWORD })).headers.location).toBe('/my-learning');
      // A refused attempt re-renders the form without inventing a next (it used to carry next=/account).
      const retry = t.visitor();
      await retry.get('/sign-in');
      const wrong = await retry.submit('/sign-in', { email: user.email, password: 'not the password' });
      expect(wrong.status).toBe(400);
      expect(wrong.body).not.toContain('name="next"');
      expect((await retry.submit('/sign-in', { email: user.email, password: PASSWORD })).headers.location).toBe('/my-learning');

      // A private page sends the visitor to sign in, and back to it afterwards, through a wrong password and the sign-up link.
      const going = t.visitor();
      const bounced = await going.get('/my-certificates');
      expect(bounced.headers.location).toBe('/sign-in?next=%2Fmy-certificates');
      const form = await going.get(String(bounced.headers.location));
      expect(form.body).toContain('<input type="hidden" name="next" value="/my-certificates">');
      expect(form.body).toContain('href="/sign-up?next&#x3D;%2Fmy-certificates"');
      const refused = await going.submit('/sign-in', { email: user.email, password: 'not the password', next: '/my-certificates' });
      expect(refused.body).toContain('<input type="hidden" name="next" value="/my-certificates">');
      const signedIn = await going.submit('/sign-in', { email: user.email, password: PASSWORD, next: '/my-certificates' });
      expect(signedIn.headers.location).toBe('/my-certificates');
      expect((await going.get('/my-certificates')).status).toBe(200);

      // Signed in already, the sign-in page sends on to a safe next or to My learning.
      expect((await going.get('/sign-in?next=%2Fcourses')).headers.location).toBe('/courses');
      expect((await going.get('/sign-in?next=%2F%2Fevil.example')).headers.location).toBe('/my-learning');
      expect((await going.get('/sign-in')).headers.location).toBe('/my-learning');

      // Sign-up keeps the next too.
      const newcomer = t.visitor();
      const signUpPage = await newcomer.get('/sign-up?next=%2Fcourses%3Ftopic%3Dfhir');
      expect(signUpPage.body).toContain('<input type="hidden" name="next" value="/courses?topic&#x3D;fhir">');
      expect(signUpPage.body).toContain('href="/sign-in?next&#x3D;%2Fcourses%3Ftopic%3Dfhir"');
      const created = await newcomer.submit('/sign-up', signUpForm(uniqueEmail('next'), { next: '/courses?topic=fhir' }));
      expect(created.headers.location).toBe('/courses?topic=fhir');
    });

    it('sets the session cookie HttpOnly and SameSite', async () => {
      const visitor = t.visitor();
      await visitor.get('/sign-in');
      const user = await t.signedIn();
      const answer = await visitor.submit('/sign-in', { email: user.email, password: PASSWORD });
      const cookie = [answer.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('academy_session='))!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
    });

    it('replaces the session of someone who signs in again, so a planted session id is useless', async () => {
      const user = await t.signedIn();
      const firstToken = user.cookies.get('academy_session')!;
      await user.get('/account');
      expect((await user.submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
      expect(user.cookies.get('academy_session')).not.toBe(firstToken);
      const old = t.visitor();
      old.cookies.set('academy_session', firstToken);
      expect((await old.get('/account')).status).toBe(303);
    });

    it('refuses a wrong password and an unknown e-mail with the same message', async () => {
      const user = await t.signedIn();
      const wrong = await t.visitor().submit('/sign-in', { email: user.email, password: 'not the password' });
      const unknown = await t.visitor().submit('/sign-in', { email: uniqueEmail('nobody'), password: 'not the password' });
      expect(wrong.status).toBe(400);
      expect(unknown.status).toBe(400);
      expect(wrong.body).toContain(SIGN_IN_FAILED);
      expect(unknown.body).toContain(SIGN_IN_FAILED);
    });

    it('signs out: the session is revoked on the server, not just forgotten by the browser', async () => {
      const user = await t.signedIn();
      const token = user.cookies.get('academy_session')!;
      await user.get('/account');
      const answer = await user.submit('/sign-out', {});
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/sign-in?notice=signed-out');
      const replay = t.visitor();
      replay.cookies.set('academy_session', token);
      const page = await replay.get('/account');
      expect(page.status).toBe(303);
      expect(page.headers.location).toBe('/sign-in?next=%2Faccount');
    });

    it('signs out of all devices, ending every session and API token of the account', async () => {
      const laptop = await t.signedIn();
      const phone = t.visitor();
      await phone.signIn(laptop.email, PASSWORD);
      const api = t.visitor();
      api.bearer = (await api.request('POST', '/api/v1/auth/token', { json: { email: laptop.email, password: PASSWORD } })).json().token;
      await laptop.get('/account');
      expect((await laptop.submit('/account/sign-out-everywhere', {})).status).toBe(303);
      expect((await phone.get('/account')).status).toBe(303);
      expect((await laptop.get('/account')).status).toBe(303);
      expect((await api.get('/api/v1/me')).status).toBe(401);
    });

    it('sends anonymous visitors of a private page to sign in, and back afterwards', async () => {
      const page = await t.visitor().get('/account');
      expect(page.status).toBe(303);
      expect(page.headers.location).toBe('/sign-in?next=%2Faccount');
    });
  });

  describe('your details', () => {
    const userRow = async (id: number) => (await t.app.get(DataSource).query('SELECT name, job_role, organisation_id FROM users WHERE id = ?', [id]))[0];
    const organisationCount = async () => Number((await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM organisations'))[0].n);

    it('lets a learner correct their name and job role, shown at once in every session, and says the name goes on certificates', async () => {
      const user = await t.signedIn('learner', { name: 'Priya Sha' });
      const phone = t.visitor();
      await phone.signIn(user.email, PASSWORD);
      const page = await user.get('/account');
      expect(page.body).toContain('Your name is printed on every certificate you get from now on');
      expect(page.body).toMatch(/<form method="post" action="\/account\/details" novalidate>\s*<input type="hidden" name="_csrf"/);
      expect(page.body).toContain('value="Priya Sha"');
      // The organisation is no longer typed here: it is shown, with the way to "Your organisations".
      expect(page.body).toContain('Test Trust');
      expect(page.body).toContain('href="/account/organisations"');
      expect(page.body).not.toContain('name="organisation"');

      const saved = await user.submit('/account/details', { name: '  Priya Shah ', jobRole: 'Clinical safety officer' });
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe('/account?notice=details-saved');
      const after = await user.get(saved.headers.location as string);
      expect(after.body).toContain('Your details have been saved.');
      expect(after.body).toContain('value="Priya Shah"');
      expect(after.body).toContain('value="Clinical safety officer"');
      // The signed-in identity (header, API) has the new details on the very next request, on every device.
      for (const who of [user, phone]) {
        expect((await who.get('/my-learning')).body).toMatch(/Priya Shah\s*</);
        expect((await who.get('/api/v1/me')).json()).toMatchObject({ name: 'Priya Shah', jobRole: 'Clinical safety officer', organisationName: 'Test Trust' });
      }
    });

    it('leaves the organisation alone (a typed one is ignored), and saving unchanged twice changes nothing', async () => {
      const user = await t.signedIn('learner');
      await user.get('/account');
      const organisations = await organisationCount();
      const before = await userRow(user.userId);
      expect((await user.submit('/account/details', { name: 'Jo Bloggs', organisation: 'NHS West Yorkshire ICB', jobRole: 'Analyst' })).status).toBe(303);
      expect(await organisationCount()).toBe(organisations);
      const row = await userRow(user.userId);
      expect(row).toEqual({ ...before, name: 'Jo Bloggs', job_role: 'Analyst' });
      expect((await user.get('/api/v1/me')).json().organisationName).toBe('Test Trust');

      // What the form shows, saved as it is, twice: no row changes and no organisation is made.
      for (let i = 0; i < 2; i++) {
        const form = await user.get('/account');
        const value = (name: string) => new RegExp(`name="${name}" type="text" value="([^"]*)"`).exec(form.body)![1];
        expect((await user.submit('/account/details', { name: value('name'), jobRole: value('jobRole') })).status).toBe(303);
        expect(await userRow(user.userId)).toEqual(row);
        expect(await organisationCount()).toBe(organisations);
      }
    });

    it('refuses bad details with the error summary and inline messages, keeping what was typed and changing nothing', async () => {
      const user = await t.signedIn('learner', { name: 'Kept Name' });
      await user.get('/account');
      const before = await userRow(user.userId);
      const organisations = await organisationCount();
      const answer = await user.submit('/account/details', { name: '   ', jobRole: 'j'.repeat(121) });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('<title>Error: Your account');
      expect(answer.body).toContain('nhsuk-error-summary');
      for (const [field, message] of [['name', 'Enter your full name'], ['jobRole', 'Job role must be 120 characters or fewer']]) {
        expect(answer.body).toContain(`href="#${field}"`);
        expect(answer.body).toContain(`id="${field}-error"`);
        expect(answer.body).toContain(message);
      }
      expect(answer.body).toContain(`value="${'j'.repeat(121)}"`);
      const long = await user.submit('/account/details', { name: 'n'.repeat(121), jobRole: 'Analyst' });
      expect(long.status).toBe(400);
      expect(long.body).toContain('Full name must be 120 characters or fewer');
      expect(await userRow(user.userId)).toEqual(before);
      expect(await organisationCount()).toBe(organisations);
    });

    it('needs a signed-in owner and a CSRF token', async () => {
      const user = await t.signedIn('learner', { name: 'Not Changed' });
      const before = await userRow(user.userId);
      const anonymous = t.visitor();
      await anonymous.get('/sign-in');
      const signedOut = await anonymous.submit('/account/details', { name: 'Intruder', organisation: 'Evil Org', jobRole: 'Intruder' });
      expect(signedOut.status).toBe(303);
      expect(signedOut.headers.location).toMatch(/^\/sign-in/);
      await user.get('/account');
      expect((await user.submit('/account/details', { name: 'Forged', organisation: 'Evil Org', jobRole: 'Forged' }, { withCsrf: false })).status).toBe(403);
      expect(await userRow(user.userId)).toEqual(before);
    });
  });

  describe('roles', () => {
    it('shows the admin pages to admins only', async () => {
      const learner = await t.signedIn('learner');
      const author = await t.signedIn('author');
      const admin = await t.signedIn('admin');
      expect((await learner.get('/admin')).status).toBe(403);
      expect((await author.get('/admin/outbox')).status).toBe(403);
      expect((await t.visitor().get('/admin')).status).toBe(303);
      expect((await admin.get('/admin')).status).toBe(200);
      expect((await admin.get('/admin/outbox')).status).toBe(200);
    });

    it('offers the Admin menu item only to admins', async () => {
      const learner = await t.signedIn('learner');
      const admin = await t.signedIn('admin');
      expect((await learner.get('/')).body).not.toContain('href="/admin"');
      expect((await admin.get('/')).body).toContain('href="/admin"');
    });
  });

  describe('passwords', () => {
    it('changes the password: the current session stays, other sessions end, the old password stops working', async () => {
      const user = await t.signedIn();
      const other = t.visitor();
      await other.signIn(user.email, PASSWORD);
      await user.get('/account');
      const wrong = await user.submit('/account/password', { currentPassword: 'wrong password', newPassword: 'a brand new password' });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toContain('Your current password is not correct');
      const answer = await user.submit('/account/password', { currentPassword: PASSWORD, newPassword: 'a brand new password' });
      expect(answer.status).toBe(303);
      expect((await user.get('/account')).status).toBe(200);
      expect((await other.get('/account')).status).toBe(303);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(400);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: 'a brand new password' })).status).toBe(303);
    });

    it('resets a forgotten password through a single-use e-mailed link', async () => {
      const user = await t.signedIn();
      const visitor = t.visitor();
      await visitor.get('/forgot-password');
      const sent = await visitor.submit('/forgot-password', { email: user.email });
      expect(sent.status).toBe(200);
      expect(sent.body).toContain('Check your e-mail');
      const link = await resetLinkFor(t, user.email);
      const form = await visitor.get(link);
      expect(form.status).toBe(200);
      expect(form.body).toContain('Choose a new password');
      const done = await visitor.submit(link, { password: 'my reset password' });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/sign-in?notice=password-reset');
      expect((await user.get('/account')).status).toBe(303);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: 'my reset password' })).status).toBe(303);
      const again = await visitor.submit(link, { password: 'another new password' });
      expect(again.status).toBe(400);
      expect(again.body).toContain('expired or has already been used');
      expect((await visitor.get(link)).body).toContain('This link has expired');
    });

    it('answers a reset request for an unknown address exactly as for a known one, and sends nothing', async () => {
      const user = await t.signedIn();
      const known = await t.visitor().submit('/forgot-password', { email: user.email });
      const unknownEmail = uniqueEmail('ghost');
      const unknown = await t.visitor().submit('/forgot-password', { email: unknownEmail });
      expect(unknown.status).toBe(known.status);
      expect(unknown.body.replace(unknownEmail, 'X').replace(/value="[^"]+"/g, '')).toBe(known.body.replace(user.email, 'X').replace(/value="[^"]+"/g, ''));
      const rows = await t.app.get(DataSource).query('SELECT id FROM mail_messages WHERE to_address = ?', [unknownEmail]);
      expect(rows).toHaveLength(0);
    });

    it('refuses an expired reset link', async () => {
      const user = await t.signedIn();
      await t.visitor().submit('/forgot-password', { email: user.email });
      const link = await resetLinkFor(t, user.email);
      await t.app.get(DataSource).getRepository(PasswordReset).update({ userId: user.userId }, { expiresAt: new Date(Date.now() - 1000) });
      const visitor = t.visitor();
      expect((await visitor.get(link)).status).toBe(400);
      const attempt = await visitor.submit(link, { password: 'my reset password' });
      expect(attempt.status).toBe(400);
      expect((await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD })).status).toBe(303);
    });

    it('refuses a made-up reset link', async () => {
      const page = await t.visitor().get('/reset-password/not-a-real-token');
      expect(page.status).toBe(400);
      expect(page.body).toContain('This link has expired');
    });
  });

  describe('API authentication', () => {
    it('issues a bearer token for the right password, accepted by /api/v1/me, and revocable', async () => {
      const user = await t.signedIn('author');
      const client = t.visitor();
      const issued = await client.request('POST', '/api/v1/auth/token', { json: { email: user.email, password: PASSWORD } });
      expect(issued.status).toBe(201);
      const body = issued.json();
      expect(body.tokenType).toBe('Bearer');
      expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86400_000);
      client.bearer = body.token;
      const me = await client.get('/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.json()).toMatchObject({ email: user.email, role: 'author', organisationName: 'Test Trust' });
      expect(me.json()).not.toHaveProperty('passwordHash');
      expect((await client.request('DELETE', '/api/v1/auth/token')).status).toBe(204);
      expect((await client.get('/api/v1/me')).status).toBe(401);
    });

    it('refuses a wrong password, an expired token and a made-up token with 401 problem details', async () => {
      const user = await t.signedIn();
      const wrong = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: user.email, password: 'not it at all' } });
      expect(wrong.status).toBe(401);
      expect(wrong.json().detail).toBe(SIGN_IN_FAILED);
      const client = t.visitor();
      client.bearer = (await client.request('POST', '/api/v1/auth/token', { json: { email: user.email, password: PASSWORD } })).json().token;
      await t.app.get(DataSource).getRepository(ApiToken).update({ userId: user.userId }, { expiresAt: new Date(Date.now() - 1000) });
      expect((await client.get('/api/v1/me')).status).toBe(401);
      const fake = t.visitor();
      fake.bearer = 'pa_made-up';
      const answer = await fake.get('/api/v1/me');
      expect(answer.status).toBe(401);
      expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('registers through the API like the sign-up page, and refuses a duplicate with 409', async () => {
      const email = uniqueEmail('api');
      const created = await t.visitor().request('POST', '/api/v1/auth/register', { json: signUpForm(email) });
      expect(created.status).toBe(201);
      expect(created.json().user).toMatchObject({ email, role: 'learner', organisationName: 'Leeds Teaching Hospitals NHS Trust' });
      const client = t.visitor();
      client.bearer = created.json().token;
      expect((await client.get('/api/v1/me')).json().email).toBe(email);
      const duplicate = await t.visitor().request('POST', '/api/v1/auth/register', { json: signUpForm(email) });
      expect(duplicate.status).toBe(409);
      expect(duplicate.json().detail).toBe(DUPLICATE_EMAIL_MESSAGE);
    });

    it('answers malformed bodies with 4xx and a readable message, never 500', async () => {
      const cases: Array<{ raw?: string; json?: unknown; type?: string }> = [
        { raw: '{not json', type: 'application/json' },
        { json: [] },
        { json: { email: 42, password: ['x'] } },
        { json: { email: 'a@b.nhs.uk', password: 'x'.repeat(10), role: 'admin' } },
        { json: { email: 'a@b.nhs.uk', password: 'x'.repeat(100_000) } },
        { raw: 'a=b', type: 'text/plain' },
      ];
      for (const c of cases) {
        const answer = await t.visitor().request('POST', '/api/v1/auth/register', { raw: c.raw, json: c.json, headers: c.type ? { 'content-type': c.type } : {} });
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(typeof answer.json().detail).toBe('string');
        expect(answer.body).not.toMatch(/at \w+ \(/);
      }
      const roleSmuggled = await t.visitor().request('POST', '/api/v1/auth/register', { json: { ...signUpForm(uniqueEmail('smuggle')), role: 'admin' } });
      expect(roleSmuggled.status).toBe(400);
      expect(roleSmuggled.json().errors.role).toMatch(/not a field/);
    });
  });
});

describe('throttling of sign-in, sign-up and password reset', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_RATE_LIMIT_PER_IP: '1000', AUTH_RATE_LIMIT_PER_ACCOUNT: '3', AUTH_RATE_WINDOW_SECONDS: '600' });
  });
  afterAll(() => t.close());

  it('stops guessing at one account from unknown devices after the limit of failures, even with the right password, with 429 and Retry-After', async () => {
    const user = await t.signedIn();
    for (let i = 0; i < 3; i++) expect((await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: user.email, password: 'wrong password' } })).status).toBe(401);
    const blocked = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: user.email, password: PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const page = await t.visitor().submit('/sign-in', { email: user.email, password: PASSWORD });
    expect(page.status).toBe(429);
    expect(page.body).toContain('Too many attempts');
  });

  it('throttles password reset requests per address', async () => {
    const email = uniqueEmail('reset-flood');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await t.visitor().submit('/forgot-password', { email })).status);
    expect(answers.slice(0, 3)).toEqual([200, 200, 200]);
    expect(answers[4]).toBe(429);
  });
});

describe('cookies behind HTTPS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PUBLIC_URL: 'https://academy.example.nhs.uk' });
  });
  afterAll(() => t.close());

  it('uses __Host- cookies with the Secure flag, and sends HSTS', async () => {
    const user = await t.signedIn();
    const visitor = t.visitor();
    const page = await visitor.get('/sign-in');
    expect(page.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    const answer = await visitor.submit('/sign-in', { email: user.email, password: PASSWORD });
    expect(answer.status).toBe(303);
    const cookies = [answer.headers['set-cookie']].flat().map(String);
    const session = cookies.find((c) => c.startsWith('__Host-academy_session='))!;
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; Path=\//i);
    expect(session).not.toMatch(/Domain=/i);
    expect(cookies.find((c) => c.startsWith('__Host-academy_csrf='))).toMatch(/; Secure/i);
  });
});
