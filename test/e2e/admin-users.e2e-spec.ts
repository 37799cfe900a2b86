import { DataSource, IsNull } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { ACCOUNT_DEACTIVATED_MESSAGE } from '../../src/accounts/accounts.service';
import { ApiToken } from '../../src/accounts/entities/api-token.entity';
import { User } from '../../src/accounts/entities/user.entity';
import type { Role } from '../../src/accounts/roles';
import { LAST_ADMIN_MESSAGE } from '../../src/accounts/user-admin.service';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { course } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { PASSWORD, startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { usingRealEngines } from '../support/engines';

type Signed = Visitor & { email: string; password: string; userId: number };

/** The audit entries about one target, oldest first. */
async function auditOf(t: TestApp, targetType: string, targetId: number): Promise<Array<{ action: string; actor_id: number | null; actor_name: string; details: Record<string, unknown> }>> {
  const rows: Array<{ action: string; actor_id: number | null; actor_name: string; details: string }> = await t.app
    .get(DataSource)
    .query('SELECT action, actor_id, actor_name, details FROM audit_log WHERE target_type = ? AND target_id = ? ORDER BY id', [targetType, targetId]);
  return rows.map((r) => ({ ...r, actor_id: r.actor_id === null ? null : Number(r.actor_id), details: JSON.parse(r.details) }));
}

/** The page with the entities Handlebars writes in attributes read back (&amp; and &#x3D;). */
const decoded = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

const roleOf = async (t: TestApp, id: number) => (await t.app.get(DataSource).getRepository(User).findOneByOrFail({ id })).role;

describe('administration of people (/admin/users)', () => {
  let t: TestApp;
  let admin: Signed;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.signedIn('admin', { name: 'Ada Admin' });
  });
  afterAll(() => t.close());

  describe('who may', () => {
    it('refuses learners, authors and organisation managers every page and every form (403), and sends visitors to sign in', async () => {
      const target = await t.signedIn('learner');
      const pages = ['/admin/users', `/admin/users/${target.userId}`, `/admin/users/${target.userId}/deactivate`, '/admin/users?q=test&role=learner&status=active&page=2'];
      const forms: Array<[string, Record<string, string>]> = [
        [`/admin/users/${target.userId}/role`, { role: 'admin' }],
        [`/admin/users/${target.userId}/deactivate`, {}],
        [`/admin/users/${target.userId}/reactivate`, {}],
        [`/admin/users/${target.userId}/password-reset`, {}],
      ];
      for (const role of ['learner', 'author', 'org_manager'] as Role[]) {
        const visitor = await t.signedIn(role);
        for (const url of pages) expect([url, role, (await visitor.get(url)).status]).toEqual([url, role, 403]);
        for (const [url, form] of forms) expect([url, role, (await visitor.submit(url, form)).status]).toEqual([url, role, 403]);
      }
      const anonymous = t.visitor();
      for (const url of pages) expect((await anonymous.get(url)).headers.location).toMatch(/^\/sign-in/);
      expect(await roleOf(t, target.userId)).toBe('learner');
      expect(await auditOf(t, 'user', target.userId)).toEqual([]);
    });

    it('refuses a form without its CSRF token, even from an administrator', async () => {
      const target = await t.signedIn('learner');
      const answer = await admin.submit(`/admin/users/${target.userId}/role`, { role: 'author' }, { withCsrf: false });
      expect(answer.status).toBe(403);
      expect(await roleOf(t, target.userId)).toBe('learner');
    });

    it('answers an unknown or malformed person with a clear 404, never a 500', async () => {
      for (const url of ['/admin/users/999999', '/admin/users/abc', '/admin/users/999999/deactivate']) {
        const answer = await admin.get(url);
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.body).toMatch(/There is no person (with that number|at this address)/);
      }
      for (const url of ['/admin/users/999999/role', '/admin/users/999999/deactivate', '/admin/users/999999/reactivate', '/admin/users/999999/password-reset', '/admin/users/x1/role']) {
        const answer = await admin.submit(url, { role: 'author' });
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.body).toMatch(/There is no person/);
      }
    });
  });

  describe('finding people', () => {
    const surname = `Quint${process.pid}`;
    let organisationId: number;
    let people: Signed[];
    beforeAll(async () => {
      const organisation = await createOrganisation(t, { name: `Finders Keepers NHS Trust ${process.pid}` });
      organisationId = organisation.id;
      people = [];
      for (const [first, role] of [
        ['Zara', 'learner'],
        ['Amir', 'author'],
        ['Mona', 'learner'],
      ] as Array<[string, Role]>) {
        people.push(await t.signedIn(role, { name: `${first} ${surname}`, email: uniqueEmail(`${first.toLowerCase()}.finder`) }));
      }
      await addMember(t, organisationId, people[0].userId);
      await addMember(t, organisationId, people[2].userId, { status: 'pending' });
    });

    it('by any word of the name, sorted by name, with role and organisation shown', async () => {
      const answer = await admin.get(`/admin/users?q=${surname.toLowerCase()}`);
      expect(answer.status).toBe(200);
      const order = [...answer.body.matchAll(/href="\/admin\/users\/(\d+)">([^<]+)</g)].map((m) => m[2]);
      expect(order).toEqual([`Amir ${surname}`, `Mona ${surname}`, `Zara ${surname}`]);
      expect(answer.body).toContain('Author');
      expect(answer.body).toContain(`Finders Keepers NHS Trust ${process.pid}`);
    });

    it('by the start of the e-mail address, by its domain, and by organisation name', async () => {
      expect((await admin.get(`/admin/users?q=${encodeURIComponent(people[1].email.slice(0, 20))}`)).body).toContain(`Amir ${surname}`);
      const byDomain = await admin.get('/admin/users?q=example.nhs.uk');
      expect(byDomain.body).toContain(`Amir ${surname}`);
      const byOrganisation = await admin.get(`/admin/users?q=${encodeURIComponent(`finders keepers nhs trust ${process.pid}`)}`);
      expect(byOrganisation.body).toContain(`Zara ${surname}`);
      expect(byOrganisation.body).toContain(`Mona ${surname}`);
      expect(byOrganisation.body).not.toContain(`Amir ${surname}`);
    });

    it('filtered by role, account state and organisation; wildcards in the search are taken literally', async () => {
      const authors = await admin.get(`/admin/users?q=${surname}&role=author`);
      expect(authors.body).toContain(`Amir ${surname}`);
      expect(authors.body).not.toContain(`Zara ${surname}`);
      const members = await admin.get(`/admin/users?organisation=${organisationId}`);
      expect(members.body).toContain(`Zara ${surname}`);
      expect(members.body).toContain(`Mona ${surname}`);
      expect(members.body).not.toContain(`Amir ${surname}`);
      expect(members.body).toContain(`Members of <strong>Finders Keepers NHS Trust ${process.pid}</strong>`);
      const unverified = await admin.get(`/admin/users?q=${surname}&status=unverified`);
      expect(unverified.body).toContain(`Amir ${surname}`);
      expect(unverified.body).not.toContain(`Zara ${surname}`);
      expect((await admin.get(`/admin/users?q=${encodeURIComponent('%')}`)).body).toContain('No people match');
      expect((await admin.get(`/admin/users?q=${encodeURIComponent('_')}`)).body).toContain('No people match');
    });

    it('a page at a time, with links that keep the filters', async () => {
      const many = `Pager${process.pid}`;
      for (let i = 0; i < 27; i++) await t.app.get(DataSource).getRepository(User).insert({ email: uniqueEmail('pager'), name: `${many} ${String(i).padStart(2, '0')}`, passwordHash: 'x', role: 'learner', organisationId: null, jobRole: 'Tester', createdAt: new Date(), lastSignInAt: null, emailVerifiedAt: new Date(), deactivatedAt: null });
      const first = await admin.get(`/admin/users?q=${many}&status=active`);
      expect(first.body).toContain(`${many} 00`);
      expect(first.body).toContain(`${many} 24`);
      expect(first.body).not.toContain(`${many} 25`);
      expect(decoded(first.body)).toContain(`href="/admin/users?q=${many}&status=active&page=2"`);
      const second = await admin.get(`/admin/users?q=${many}&status=active&page=2`);
      expect(second.body).toContain(`${many} 25`);
      expect(second.body).toContain(`${many} 26`);
      expect(second.body).not.toContain(`${many} 24`);
      expect(second.body).not.toContain('page=3');
    });
  });

  describe("a person's page", () => {
    it('shows their account, memberships, learning with progress and certificates with links', async () => {
      const person = await t.signedIn('learner', { name: 'Rosalind Franklin' });
      const organisation = await createOrganisation(t, { name: `Kings College Trust ${process.pid}` });
      await addMember(t, organisation.id, person.userId, { manager: true });
      const author = await t.signedIn('author');
      const first = await course(t, { title: 'Safety cases', authorId: author.userId });
      const second = await course(t, { title: 'Hazard logs', authorId: author.userId });
      const ds = t.app.get(DataSource);
      const now = new Date();
      await ds.getRepository(Enrolment).insert([
        { userId: person.userId, courseId: first.id, status: 'active', progressPercent: 40, enrolledAt: now, lastActivityAt: now, withdrawnAt: null, completedAt: null, nudgedAt: null, completionRecordedAt: null },
        { userId: person.userId, courseId: second.id, status: 'completed', progressPercent: 100, enrolledAt: now, lastActivityAt: now, withdrawnAt: null, completedAt: now, nudgedAt: null, completionRecordedAt: now },
      ]);
      await ds.getRepository(Certificate).insert({
        code: 'ADMN-USER-PAGE',
        userId: person.userId,
        subjectType: 'course',
        subjectId: second.id,
        revision: 1,
        subjectTitle: 'Hazard logs',
        holderName: 'Rosalind Franklin',
        cpdMinutes: 30,
        achievedAt: now,
        issuedAt: now,
        fileKey: 'certificates/none.pdf',
        sha256: '0'.repeat(64),
        recipientSalt: '0'.repeat(32),
        status: 'valid',
        revokedAt: null,
        revokedReason: null,
      });
      const page = await admin.get(`/admin/users/${person.userId}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Rosalind Franklin');
      expect(page.body).toContain(person.email);
      expect(page.body).toContain('Organisation manager');
      expect(page.body).toContain(`Kings College Trust ${process.pid}`);
      expect(page.body).toContain('Active, manager');
      expect(page.body).toContain('Safety cases');
      expect(page.body).toContain('40%');
      expect(page.body).toContain('Hazard logs');
      expect(page.body).toMatch(/Completed \d+ \w+ \d{4}/);
      expect(page.body).toContain('href="/verify/ADMN-USER-PAGE"');
      expect(page.body).toContain('href="/certificates/ADMN-USER-PAGE.pdf"');
      expect(page.body).not.toContain('passwordHash');
    });
  });

  describe('changing roles', () => {
    it('changes the role, effective on the next request, and writes an audit entry with before and after', async () => {
      const person = await t.signedIn('learner', { name: 'Grace Hopper' });
      expect((await person.get('/author/courses')).status).toBe(403);
      await admin.get(`/admin/users/${person.userId}`);
      const answer = await admin.submit(`/admin/users/${person.userId}/role`, { role: 'author' });
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/admin/users/${person.userId}?notice=role-changed`);
      expect(await roleOf(t, person.userId)).toBe('author');
      expect((await person.get('/author/courses')).status).toBe(200);
      expect(await auditOf(t, 'user', person.userId)).toEqual([
        { action: 'user.role_changed', actor_id: admin.userId, actor_name: 'Ada Admin', details: { role: { from: 'learner', to: 'author' } } },
      ]);
      const again = await admin.submit(`/admin/users/${person.userId}/role`, { role: 'author' });
      expect(again.headers.location).toBe(`/admin/users/${person.userId}?notice=role-unchanged`);
      expect(await auditOf(t, 'user', person.userId)).toHaveLength(1);
    });

    it('refuses a role that does not exist with a message on the page, changing nothing', async () => {
      const person = await t.signedIn('learner');
      const answer = await admin.submit(`/admin/users/${person.userId}/role`, { role: 'superuser' });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('Choose one of the roles listed');
      expect(await roleOf(t, person.userId)).toBe('learner');
      expect(await auditOf(t, 'user', person.userId)).toEqual([]);
    });
  });

  describe('deactivating and reactivating', () => {
    it('asks to confirm first', async () => {
      const person = await t.signedIn('learner', { name: 'Ida Wells' });
      const page = await admin.get(`/admin/users/${person.userId}/deactivate`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Deactivate Ida Wells’s account?');
      expect(page.body).toContain(`action="/admin/users/${person.userId}/deactivate"`);
      expect(page.body).toContain('name="_csrf"');
      expect((await t.app.get(DataSource).getRepository(User).findOneByOrFail({ id: person.userId })).deactivatedAt).toBeNull();
    });

    it('ends the browser session and the API token at once, refuses sign-in with a clear message, and reactivating lets them back', async () => {
      const person = await t.signedIn('learner', { name: 'Lise Meitner' });
      const api = await t.apiClient(person.email, PASSWORD);
      expect((await person.get('/account')).status).toBe(200);
      expect((await api.get('/api/v1/me')).status).toBe(200);

      await admin.get(`/admin/users/${person.userId}/deactivate`);
      const done = await admin.submit(`/admin/users/${person.userId}/deactivate`, { reason: 'Left the NHS' });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe(`/admin/users/${person.userId}?notice=deactivated`);

      const session = await person.get('/account');
      expect(session.status).toBe(303);
      expect(session.headers.location).toMatch(/^\/sign-in/);
      expect((await api.get('/api/v1/me')).status).toBe(401);
      const ds = t.app.get(DataSource);
      expect(await ds.getRepository(ApiToken).countBy({ userId: person.userId, revokedAt: IsNull() })).toBe(0);

      const browser = t.visitor();
      await browser.get('/sign-in');
      const refused = await browser.submit('/sign-in', { email: person.email, password: PASSWORD });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain(ACCOUNT_DEACTIVATED_MESSAGE);
      const token = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: person.email, password: PASSWORD } });
      expect(token.status).toBe(409);
      expect(token.json().detail).toBe(ACCOUNT_DEACTIVATED_MESSAGE);
      // Someone without the password hears only that the details are wrong.
      const guess = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: person.email, password: 'not the right password at all' } });
      expect(guess.status).toBe(401);

      const page = await admin.get(`/admin/users/${person.userId}?notice=deactivated`);
      expect(page.body).toContain('Deactivated');
      expect(page.body).toContain('Reactivate this account');

      const back = await admin.submit(`/admin/users/${person.userId}/reactivate`, {});
      expect(back.status).toBe(303);
      const again = t.visitor();
      await again.signIn(person.email, PASSWORD);
      expect((await again.get('/account')).status).toBe(200);
      expect((await api.get('/api/v1/me')).status).toBe(401);

      const entries = await auditOf(t, 'user', person.userId);
      expect(entries.map((e) => e.action)).toEqual(['user.deactivated', 'user.reactivated']);
      expect(entries[0].details).toMatchObject({ reason: 'Left the NHS', apiTokensRevoked: 1, role: 'learner' });
      expect(entries[0].actor_id).toBe(admin.userId);
    });

    it('answers a session or token of a deactivated account as signed out even if it was not ended', async () => {
      const person = await t.signedIn('learner');
      const api = await t.apiClient(person.email, PASSWORD);
      await t.app.get(DataSource).getRepository(User).update({ id: person.userId }, { deactivatedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([person.userId]);
      expect((await person.get('/account')).headers.location).toMatch(/^\/sign-in/);
      expect((await api.get('/api/v1/me')).status).toBe(401);
    });

    it('refuses to deactivate an account twice, reactivate an active one, or deactivate your own', async () => {
      const person = await t.signedIn('learner');
      await admin.submit(`/admin/users/${person.userId}/deactivate`, {});
      const twice = await admin.submit(`/admin/users/${person.userId}/deactivate`, {});
      expect(twice.status).toBe(409);
      expect(twice.body).toContain('already deactivated');
      await admin.submit(`/admin/users/${person.userId}/reactivate`, {});
      const active = await admin.submit(`/admin/users/${person.userId}/reactivate`, {});
      expect(active.status).toBe(409);
      expect(active.body).toContain('This account is not deactivated');
      const other = await t.signedIn('admin');
      const self = await other.submit(`/admin/users/${other.userId}/deactivate`, {});
      expect(self.status).toBe(409);
      expect(self.body).toContain('You cannot deactivate your own account');
      expect((await other.get('/admin')).status).toBe(200);
      expect((await auditOf(t, 'user', person.userId)).map((e) => e.action)).toEqual(['user.deactivated', 'user.reactivated']);
    });
  });

  describe('password reset links', () => {
    it('e-mails the person a working link and records who sent it', async () => {
      const person = await t.signedIn('learner', { name: 'Katherine Johnson' });
      const answer = await admin.submit(`/admin/users/${person.userId}/password-reset`, {});
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/admin/users/${person.userId}?notice=reset-sent`);
      await t.drainJobs();
      const ds = t.app.get(DataSource);
      const rows: Array<{ payload: string }> = await ds.query('SELECT payload FROM mail_messages WHERE to_address = ? AND template = ?', [person.email, 'password-reset']);
      expect(rows).toHaveLength(1);
      const link = new URL(JSON.parse(rows[0].payload).link).pathname;
      expect((await t.visitor().get(link)).status).toBe(200);
      expect(await auditOf(t, 'user', person.userId)).toEqual([{ action: 'user.password_reset_sent', actor_id: admin.userId, actor_name: 'Ada Admin', details: { email: person.email } }]);
    });

    it('refuses to send one to a deactivated account', async () => {
      const person = await t.signedIn('learner');
      await admin.submit(`/admin/users/${person.userId}/deactivate`, {});
      const answer = await admin.submit(`/admin/users/${person.userId}/password-reset`, {});
      expect(answer.status).toBe(409);
      expect(answer.body).toContain('Reactivate the account before sending a password reset link');
      const rows: unknown[] = await t.app.get(DataSource).query('SELECT id FROM mail_messages WHERE to_address = ? AND template = ?', [person.email, 'password-reset']);
      expect(rows).toHaveLength(0);
    });
  });
});

describe('the last administrator', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const activeAdmins = async () => (await t.app.get(DataSource).getRepository(User).find({ where: { role: 'admin' } })).filter((u) => !u.deactivatedAt).map((u) => u.id);

  it('cannot be demoted or deactivated, and is told why', async () => {
    const only = await t.signedIn('admin', { name: 'Only Admin' });
    expect(await activeAdmins()).toEqual([only.userId]);
    await only.get(`/admin/users/${only.userId}`);
    const demote = await only.submit(`/admin/users/${only.userId}/role`, { role: 'learner' });
    expect(demote.status).toBe(409);
    expect(demote.body).toContain(LAST_ADMIN_MESSAGE);
    const deactivate = await only.submit(`/admin/users/${only.userId}/deactivate`, {});
    expect(deactivate.status).toBe(409);
    expect(deactivate.body).toContain(LAST_ADMIN_MESSAGE);
    expect(await activeAdmins()).toEqual([only.userId]);

    // A second administrator makes the first one free to step down; a deactivated administrator does not count.
    const second = await t.signedIn('admin', { name: 'Second Admin' });
    const deactivated = await t.signedIn('admin', { name: 'Dormant Admin' });
    await only.submit(`/admin/users/${deactivated.userId}/deactivate`, {});
    const stepDown = await only.submit(`/admin/users/${only.userId}/role`, { role: 'author' });
    expect(stepDown.status).toBe(303);
    expect((await only.get('/admin')).status).toBe(403);
    const last = await second.submit(`/admin/users/${second.userId}/role`, { role: 'learner' });
    expect(last.status).toBe(409);
    expect(await activeAdmins()).toEqual([second.userId]);
  });

  it('survives two administrators demoting each other at the same moment: one of them stays', async () => {
    const rounds = usingRealEngines() ? 6 : 3;
    const ds = t.app.get(DataSource);
    for (let round = 0; round < rounds; round++) {
      // Start from exactly two active administrators.
      await ds.getRepository(User).update({ role: 'admin' }, { role: 'learner' });
      const a = await t.signedIn('admin', { name: `Admin A${round}` });
      const b = await t.signedIn('admin', { name: `Admin B${round}` });
      await a.get(`/admin/users/${b.userId}`);
      await b.get(`/admin/users/${a.userId}`);
      const answers = await Promise.all([a.submit(`/admin/users/${b.userId}/role`, { role: 'learner' }), b.submit(`/admin/users/${a.userId}/role`, { role: 'learner' })]);
      const statuses = answers.map((x) => x.status).sort();
      expect(statuses[0]).toBe(303);
      expect([403, 409]).toContain(statuses[1]);
      const left = await activeAdmins();
      expect(left).toHaveLength(1);
      expect([a.userId, b.userId]).toContain(left[0]);
      const entries: unknown[] = await ds.query(`SELECT id FROM audit_log WHERE action = 'user.role_changed' AND target_id IN (?, ?)`, [a.userId, b.userId]);
      expect(entries).toHaveLength(1);
    }
  });

  it('and two administrators deactivating each other at once leave one active', async () => {
    const ds = t.app.get(DataSource);
    await ds.getRepository(User).update({ role: 'admin' }, { role: 'learner' });
    const a = await t.signedIn('admin');
    const b = await t.signedIn('admin');
    await a.get('/admin');
    await b.get('/admin');
    await Promise.all([a.submit(`/admin/users/${b.userId}/deactivate`, {}), b.submit(`/admin/users/${a.userId}/deactivate`, {})]);
    expect(await activeAdmins()).toHaveLength(1);
  });
});
