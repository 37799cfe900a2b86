import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { VERIFICATION_RESENDS_PER_HOUR } from '../../src/accounts/email-verification';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { Clock } from '../../src/common/clock';
import { StaffVisibility } from '../../src/common/staff-visibility';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { Organisation } from '../../src/organisations/entities/organisation.entity';
import { lastManagerMessage, UNVERIFIED_REQUEST_MESSAGE } from '../../src/organisations/memberships.service';
import { CHOOSE_ORGANISATION_MESSAGE, UNKNOWN_CHOICE_MESSAGE } from '../../src/organisations/organisation-picker';
import { PASSWORD, startTestApp, TestApp, uniqueEmail } from '../support/app';
import { decodeHtml } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';

let counter = 0;
/** A name no other test of this file uses (each file has a database of its own). */
const unique = (label: string) => `${label} ${++counter}${String.fromCharCode(97 + (counter % 26))}`;

/**
 * Joining organisations: the sign-up picker without JavaScript (an exact name or ODS code, a choice among close
 * matches, a request for a new one), e-mail verification by signed link, the domain rule, managers' approvals, leaving
 * and joining again, and the public search. Every grant and every denial, on both engine sets.
 */
describe('joining organisations', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    // The organisation t.signedIn names, active so that sign-ups naming it join it at once.
    await createOrganisation(t, { name: 'Test Trust' });
  });
  afterAll(() => t?.close());

  const signUpForm = (email: string, organisation: string, extra: Record<string, string> = {}) => ({ name: 'Aisha Khan', email, password: PASSWORD, organisation, jobRole: 'Digital project lead', ...extra });
  const userByEmail = (email: string) => db.getRepository(User).findOneByOrFail({ email });
  const membershipsOf = (userId: number) => db.getRepository(Membership).find({ where: { userId }, order: { id: 'ASC' } });
  const membershipIn = (userId: number, organisationId: number) => db.getRepository(Membership).findOneByOrFail({ userId, organisationId });
  const userCount = async (email: string) => db.getRepository(User).countBy({ email });

  /** The newest verification link e-mailed to the address: its path and query. */
  async function verificationLink(email: string): Promise<string> {
    const message = await db.getRepository(MailMessage).findOneOrFail({ where: { toAddress: email, template: 'verify-email' }, order: { id: 'DESC' } });
    const url = new URL(String(JSON.parse(message.payload).link));
    return `${url.pathname}${url.search}`;
  }

  /** Signs up through the page, as a browser without JavaScript would, in one go (the organisation matching exactly). */
  async function signUp(organisation: string, options: { email?: string; extra?: Record<string, string> } = {}) {
    const visitor = t.visitor();
    await visitor.get('/sign-up');
    const email = options.email ?? uniqueEmail('joiner');
    const answer = await visitor.submit('/sign-up', signUpForm(email, organisation, options.extra));
    return { visitor, email, answer };
  }

  async function manager(organisationId: number) {
    const visitor = await t.signedIn('org_manager');
    await addMember(t, organisationId, visitor.userId, { manager: true });
    return visitor;
  }

  describe('sign-up without JavaScript', () => {
    it('takes the one organisation whose name (any case and spacing) or ODS code is exactly what was typed', async () => {
      const trust = await createOrganisation(t, { name: unique('Calder Valley Teaching Hospitals NHS Trust'), odsCode: 'RW9' });
      const byName = await signUp(`  ${trust.name.toUpperCase().replace(/ /g, '  ')} `);
      expect(byName.answer.status).toBe(303);
      expect(byName.answer.headers.location).toBe('/my-learning');
      const byCode = await signUp('rw9');
      expect(byCode.answer.status).toBe(303);
      for (const { email } of [byName, byCode]) {
        const user = await userByEmail(email);
        expect(user.organisationId).toBe(trust.id);
        expect(user.emailVerifiedAt).toBeNull();
        expect((await membershipsOf(user.id)).map((m) => [m.organisationId, m.status, m.isManager])).toEqual([[trust.id, 'pending', false]]);
        // The verification e-mail went out at sign-up.
        expect(await verificationLink(email)).toMatch(/^\/verify-email\?u=\d+&e=[\w-]{22}&x=\d+&s=[\w-]{43}$/);
      }
      expect(await db.getRepository(Organisation).countBy({ nameKey: trust.nameKey })).toBe(1);
    });

    it('offers several close matches as radios, keeping everything typed, and joins the one chosen', async () => {
      const word = unique('Wharfedale');
      const a = await createOrganisation(t, { name: `${word} Community Health Services`, type: 'care_provider', region: 'north_east_yorkshire', odsCode: 'RY8' });
      const b = await createOrganisation(t, { name: `${word} General Practice Federation`, type: 'gp_federation' });
      const c = await createOrganisation(t, { name: `NHS ${word} Place` });
      const requested = await createOrganisation(t, { name: `${word} Requested Hospice`, status: 'requested' });
      const visitor = t.visitor();
      await visitor.get('/sign-up');
      const email = uniqueEmail('choose');
      const shown = await visitor.submit('/sign-up', signUpForm(email, word));
      expect(shown.status).toBe(200);
      expect(shown.headers['cache-control']).toBe('no-store');
      expect(shown.body).toContain('Which organisation do you mean?');
      // Names starting with the text first, then those with a word starting with it; requested ones are not offered.
      const offered = [...shown.body.matchAll(/name="organisationChoice" type="radio" value="(\w+)"/g)].map((m) => m[1]);
      expect(offered).toEqual([String(a.id), String(b.id), String(c.id), 'new']);
      expect(shown.body).not.toContain(requested.name);
      expect(shown.body).toContain('Care provider, North East and Yorkshire. ODS code RY8');
      // Nothing lost: every value comes back (the password too, on a page that is not stored).
      for (const value of ['Aisha Khan', email, PASSWORD, word, 'Digital project lead']) expect(shown.body).toContain(`value="${value}"`);
      expect(decodeHtml(/name="organisationMatched" value="([^"]*)"/.exec(shown.body)![1])).toBe(word);
      expect(await userCount(email)).toBe(0);

      // Sent again without choosing: the question again, now as an error.
      const unanswered = await visitor.submit('/sign-up', signUpForm(email, word, { organisationMatched: word }));
      expect(unanswered.status).toBe(400);
      expect(unanswered.body).toContain(CHOOSE_ORGANISATION_MESSAGE);
      expect(unanswered.body).toContain('href="#organisationChoice"');
      expect(unanswered.body).toContain('id="organisationChoice"');

      // A made-up or foreign id (a requested organisation's): a clear message, nothing created.
      for (const forged of ['999999', String(requested.id), 'abc']) {
        const refused = await visitor.submit('/sign-up', signUpForm(email, word, { organisationMatched: word, organisationChoice: forged }));
        expect(refused.status).toBe(400);
        expect(refused.body).toContain(UNKNOWN_CHOICE_MESSAGE);
      }
      expect(await userCount(email)).toBe(0);

      // A choice made for other text counts for nothing: the new text is matched instead.
      const changed = await visitor.submit('/sign-up', signUpForm(email, `NHS ${word} Place`, { organisationMatched: word, organisationChoice: String(a.id) }));
      expect(changed.status).toBe(303);
      expect((await userByEmail(email)).organisationId).toBe(c.id);

      const chooser = t.visitor();
      await chooser.get('/sign-up');
      const second = uniqueEmail('choose');
      const chosen = await chooser.submit('/sign-up', signUpForm(second, word, { organisationMatched: word, organisationChoice: String(b.id) }));
      expect(chosen.status).toBe(303);
      const user = await userByEmail(second);
      expect(user.organisationId).toBe(b.id);
      expect((await membershipsOf(user.id)).map((m) => [m.organisationId, m.status])).toEqual([[b.id, 'pending']]);
    });

    it('offers to ask for a new organisation when nothing matches, and asking creates a requested one', async () => {
      const name = unique('Ryedale Digital Care Collaborative');
      const visitor = t.visitor();
      await visitor.get('/sign-up');
      const email = uniqueEmail('newcomer');
      const shown = await visitor.submit('/sign-up', signUpForm(email, name));
      expect(shown.status).toBe(200);
      expect(shown.body).toContain(`We could not find “${name}”`);
      expect(shown.body).toContain(`Ask for a new organisation called “${name}”`);
      expect(shown.body).toContain('name="organisationType"');
      expect(shown.body).toContain('name="organisationRegion"');
      expect(shown.body).toContain(`value="${PASSWORD}"`);
      expect(await db.getRepository(Organisation).countBy({ nameKey: name.toLowerCase() })).toBe(0);

      const badType = await visitor.submit('/sign-up', signUpForm(email, name, { organisationMatched: name, organisationChoice: 'new', organisationType: 'castle', organisationRegion: 'atlantis' }));
      expect(badType.status).toBe(400);
      expect(badType.body).toContain('Choose the type of organisation from the list');
      expect(badType.body).toContain('Choose the region from the list');
      expect(await userCount(email)).toBe(0);

      const asked = await visitor.submit('/sign-up', signUpForm(email, name, { organisationMatched: name, organisationChoice: 'new', organisationType: 'charity', organisationRegion: 'north_west' }));
      expect(asked.status).toBe(303);
      const user = await userByEmail(email);
      const organisation = await db.getRepository(Organisation).findOneByOrFail({ id: user.organisationId! });
      expect(organisation).toMatchObject({ name, status: 'requested', type: 'charity', region: 'north_west', requestedById: user.id });
      expect((await membershipsOf(user.id)).map((m) => [m.organisationId, m.status])).toEqual([[organisation.id, 'pending']]);

      // Someone else asking for it too joins the same request; it is still not offered to pick.
      const second = await signUp(name.toLowerCase(), { extra: { organisationMatched: name, organisationChoice: 'new' } });
      expect(second.answer.status).toBe(303);
      expect((await userByEmail(second.email)).organisationId).toBe(organisation.id);
      expect(await db.getRepository(Organisation).countBy({ nameKey: organisation.nameKey })).toBe(1);
      const api = await t.visitor().get(`/api/v1/organisations?q=${encodeURIComponent(name)}`);
      expect(api.json()).toEqual([]);
    });

    it('registers through the API and the test helpers by name: the active one of that name, else a request', async () => {
      const trust = await createOrganisation(t, { name: unique('Airedale Partnership NHS Trust') });
      const email = uniqueEmail('api');
      const created = await t.visitor().request('POST', '/api/v1/auth/register', { json: signUpForm(email, trust.name.toLowerCase()) });
      expect(created.status).toBe(201);
      expect(created.json().user).toMatchObject({ organisationId: trust.id, organisationName: trust.name, emailVerified: false });
      expect(await verificationLink(email)).toContain('/verify-email?u=');
      const other = uniqueEmail('api');
      const requested = await t.visitor().request('POST', '/api/v1/auth/register', { json: signUpForm(other, unique('Brand New Primary Care Network')) });
      expect(requested.status).toBe(201);
      expect((await db.getRepository(Organisation).findOneByOrFail({ id: requested.json().user.organisationId })).status).toBe('requested');
    });
  });

  describe('e-mail verification', () => {
    it('verifies the address once: the second opening says so, and the account pages stop asking', async () => {
      const { visitor, email } = await signUp('Test Trust');
      const account = await visitor.get('/account');
      expect(account.body).toContain('Verify your e-mail address');
      expect(account.body).toContain('action="/account/verify-email"');
      expect((await visitor.get('/account/organisations')).body).toContain('Verify your e-mail address');
      const link = await verificationLink(email);
      const opened = await t.visitor().get(link);
      expect(opened.status).toBe(200);
      expect(opened.body).toContain('Your e-mail address is verified');
      const verifiedAt = (await userByEmail(email)).emailVerifiedAt;
      expect(verifiedAt).toBeInstanceOf(Date);
      const again = await visitor.get(link);
      expect(again.status).toBe(200);
      expect(again.body).toContain('Your e-mail address is already verified');
      expect((await userByEmail(email)).emailVerifiedAt).toEqual(verifiedAt);
      expect((await visitor.get('/account')).body).not.toContain('action="/account/verify-email"');
      expect((await visitor.get('/api/v1/me')).json().emailVerified).toBe(true);
    });

    it('refuses a forged, altered or foreign link with a clear page, changing nothing', async () => {
      const { email } = await signUp('Test Trust');
      const other = await signUp('Test Trust');
      const link = await verificationLink(email);
      const params = new URLSearchParams(link.split('?')[1]);
      const withParam = (name: string, value: string) => {
        const copy = new URLSearchParams(params);
        copy.set(name, value);
        return `/verify-email?${copy}`;
      };
      const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
      const otherUserId = String((await userByEmail(other.email)).id);
      for (const forged of [
        withParam('s', flip(params.get('s')!)),
        withParam('u', otherUserId),
        withParam('x', String(Number(params.get('x')) + 86400)),
        withParam('e', flip(params.get('e')!)),
        '/verify-email',
        '/verify-email?u=1&e=x&x=1&s=y',
      ]) {
        const answer = await t.visitor().get(forged);
        expect({ forged, status: answer.status }).toEqual({ forged, status: 400 });
        expect(answer.body).toContain('This link does not work');
        expect(answer.body).toContain('Nothing has been changed');
      }
      // Opened in a browser signed in to another account: not that account's link, so nothing happens.
      const foreign = await other.visitor.get(link);
      expect(foreign.status).toBe(400);
      expect(foreign.body).toContain('This link is for another account');
      expect((await userByEmail(email)).emailVerifiedAt).toBeNull();
      expect((await userByEmail(other.email)).emailVerifiedAt).toBeNull();
    });

    it('no longer works once the address has changed', async () => {
      const { email } = await signUp('Test Trust');
      const link = await verificationLink(email);
      const user = await userByEmail(email);
      const changed = uniqueEmail('changed');
      await db.getRepository(User).update({ id: user.id }, { email: changed });
      await t.app.get(AccountsService).identitiesChanged([user.id]);
      const answer = await t.visitor().get(link);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('This link is for an old e-mail address');
      expect((await userByEmail(changed)).emailVerifiedAt).toBeNull();
    });

    it('sends the link again from the account page, a few times an hour', async () => {
      const { visitor, email } = await signUp('Test Trust');
      await visitor.get('/account');
      const before = await db.getRepository(MailMessage).countBy({ toAddress: email, template: 'verify-email' });
      const clock = t.app.get(Clock);
      for (let i = 0; i < VERIFICATION_RESENDS_PER_HOUR; i++) {
        clock.travel(1000); // each link its own (a new expiry to the second)
        const sent = await visitor.submit('/account/verify-email', { back: '/account/organisations' });
        expect(sent.status).toBe(303);
        expect(sent.headers.location).toBe('/account/organisations?notice=verification-sent');
      }
      expect(await db.getRepository(MailMessage).countBy({ toAddress: email, template: 'verify-email' })).toBe(before + VERIFICATION_RESENDS_PER_HOUR);
      expect((await visitor.submit('/account/verify-email', {})).status).toBe(429);
      expect((await visitor.submit('/account/verify-email', {}, { withCsrf: false })).status).toBe(403);
      // The newest link works.
      expect((await t.visitor().get(await verificationLink(email))).status).toBe(200);
    });
  });

  describe('membership after verification', () => {
    it('is active at once on a verified domain of the organisation, and otherwise waits for a manager who is e-mailed once', async () => {
      const domain = `calderdale-${process.pid}-${++counter}.nhs.uk`;
      const trust = await createOrganisation(t, { name: unique('Calderdale and Huddersfield NHS Trust'), domains: [domain] });
      const boss = await manager(trust.id);
      const visibility = t.app.get(StaffVisibility);

      const onDomain = await signUp(trust.name, { email: `dana.${counter}@${domain}` });
      const elsewhere = await signUp(trust.name);
      const onDomainId = (await userByEmail(onDomain.email)).id;
      const elsewhereId = (await userByEmail(elsewhere.email)).id;
      // Unverified, neither is a member of anything: the manager sees neither.
      expect(await visibility.managerMaySee(boss.userId, onDomainId)).toBe(false);
      expect(await visibility.managerMaySee(boss.userId, elsewhereId)).toBe(false);
      const requestsBefore = await boss.get(`/organisation/${trust.id}/requests`);
      expect(requestsBefore.body).toContain(elsewhere.email);
      expect(requestsBefore.body).toContain('Not verified yet');
      // Nobody has been asked to decide yet: an unverified request is not sent to managers.
      expect(await db.getRepository(MailMessage).countBy({ toAddress: boss.email, template: 'join-request' })).toBe(0);

      expect((await t.visitor().get(await verificationLink(onDomain.email))).status).toBe(200);
      const [active] = await membershipsOf(onDomainId);
      expect(active.status).toBe('active');
      expect(active.joinedAt).toBeInstanceOf(Date);
      expect(await visibility.managerMaySee(boss.userId, onDomainId)).toBe(true);
      expect((await onDomain.visitor.get('/account/organisations')).body).toContain(`Managers of ${trust.name} can see your progress.`);

      const link = await verificationLink(elsewhere.email);
      expect((await t.visitor().get(link)).status).toBe(200);
      expect((await t.visitor().get(link)).status).toBe(200);
      expect((await membershipsOf(elsewhereId))[0].status).toBe('pending');
      expect(await visibility.managerMaySee(boss.userId, elsewhereId)).toBe(false);
      await t.drainJobs();
      const asked = await db.getRepository(MailMessage).find({ where: { toAddress: boss.email, template: 'join-request' } });
      expect(asked).toHaveLength(1);
      expect(JSON.parse(asked[0].payload)).toMatchObject({ personName: 'Aisha Khan', organisationName: trust.name, link: `${t.config.publicUrl}/organisation/${trust.id}/requests` });
      const waiting = await elsewhere.visitor.get('/account/organisations');
      expect(waiting.body).toContain(`Waiting for a manager of ${trust.name} to accept you.`);
      expect(waiting.body).toContain(`Test org_manager`);

      // The manager accepts: a member now, with the audit entry written with it.
      const page = await boss.get(`/organisation/${trust.id}/requests`);
      const membershipId = (await membershipsOf(elsewhereId))[0].id;
      expect(page.body).toContain(`action="/organisation/${trust.id}/requests/${membershipId}/approve"`);
      const approved = await boss.submit(`/organisation/${trust.id}/requests/${membershipId}/approve`, {});
      expect(approved.status).toBe(303);
      expect((await boss.get(approved.headers.location as string)).body).toContain('Aisha Khan is now a member');
      const [member] = await membershipsOf(elsewhereId);
      expect(member).toMatchObject({ status: 'active', decidedById: boss.userId });
      expect(member.joinedAt).toBeInstanceOf(Date);
      expect(await visibility.managerMaySee(boss.userId, elsewhereId)).toBe(true);
      const audit = await db.getRepository(AuditEntry).findOneByOrFail({ action: 'membership.approved', targetId: membershipId });
      expect(audit).toMatchObject({ actorId: boss.userId, targetType: 'membership', targetLabel: `Aisha Khan at ${trust.name}` });
      expect(JSON.parse(audit.details)).toMatchObject({ organisationId: trust.id, userId: elsewhereId });
      // Twice is a clear refusal, not a second change.
      const twice = await boss.submit(`/organisation/${trust.id}/requests/${membershipId}/approve`, {});
      expect(twice.status).toBe(409);
      expect(twice.body).toContain('already been approved or declined');
    });

    it('refuses to approve an unverified account, with a message; declining works and is audited', async () => {
      const trust = await createOrganisation(t, { name: unique('Bradford District Care NHS Trust') });
      const boss = await manager(trust.id);
      const { email } = await signUp(trust.name);
      const user = await userByEmail(email);
      const [request] = await membershipsOf(user.id);
      await boss.get(`/organisation/${trust.id}/requests`);
      const refused = await boss.submit(`/organisation/${trust.id}/requests/${request.id}/approve`, {});
      expect(refused.status).toBe(409);
      expect(refused.body).toContain(UNVERIFIED_REQUEST_MESSAGE);
      expect((await membershipsOf(user.id))[0].status).toBe('pending');
      expect(await db.getRepository(AuditEntry).countBy({ targetType: 'membership', targetId: request.id })).toBe(0);

      expect((await boss.submit(`/organisation/${trust.id}/requests/${request.id}/decline`, {}, { withCsrf: false })).status).toBe(403);
      const declined = await boss.submit(`/organisation/${trust.id}/requests/${request.id}/decline`, {});
      expect(declined.status).toBe(303);
      expect((await boss.get(declined.headers.location as string)).body).toContain('You declined Aisha Khan’s request.');
      // What the page says comes from the organisation's own decided request, never from the address.
      const elsewhere = await createOrganisation(t, { name: unique('Elsewhere Trust') });
      const otherBoss = await manager(elsewhere.id);
      expect((await otherBoss.get(`/organisation/${elsewhere.id}/requests?decided=${request.id}`)).body).not.toContain('Aisha Khan');
      expect((await membershipsOf(user.id))[0]).toMatchObject({ status: 'declined', decidedById: boss.userId });
      expect(await db.getRepository(AuditEntry).countBy({ action: 'membership.declined', targetId: request.id })).toBe(1);
    });

    it('answers 404 to anyone who does not manage the organisation, on the list and on every decision', async () => {
      const trust = await createOrganisation(t, { name: unique('Harrogate and District NHS Trust') });
      const other = await createOrganisation(t, { name: unique('York and Scarborough NHS Trust') });
      const ownManager = await manager(trust.id);
      const otherManager = await manager(other.id);
      const learner = await t.signedIn('learner');
      await addMember(t, trust.id, learner.userId);
      const admin = await t.signedIn('admin');
      const { email } = await signUp(trust.name);
      const user = await userByEmail(email);
      await db.getRepository(User).update({ id: user.id }, { emailVerifiedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([user.id]);
      const [request] = await membershipsOf(user.id);

      for (const visitor of [otherManager, learner]) {
        expect((await visitor.get(`/organisation/${trust.id}/requests`)).status).toBe(404);
        await visitor.get('/account');
        expect((await visitor.submit(`/organisation/${trust.id}/requests/${request.id}/approve`, {})).status).toBe(404);
        expect((await visitor.submit(`/organisation/${trust.id}/requests/${request.id}/decline`, {})).status).toBe(404);
        // Its own organisation's address with the other's request: not one of its requests.
        if (visitor === otherManager) expect((await visitor.submit(`/organisation/${other.id}/requests/${request.id}/approve`, {})).status).toBe(404);
      }
      expect((await t.visitor().get(`/organisation/${trust.id}/requests`)).status).toBe(303);
      expect((await ownManager.get('/organisation/99999999/requests')).status).toBe(404);
      expect((await ownManager.get('/organisation/abc/requests')).status).toBe(404);
      expect((await membershipsOf(user.id))[0].status).toBe('pending');

      expect((await admin.get(`/organisation/${trust.id}/requests`)).status).toBe(200);
      expect((await ownManager.get(`/organisation/${trust.id}/requests`)).body).toContain(email);
      expect((await ownManager.submit(`/organisation/${trust.id}/requests/${request.id}/approve`, {})).status).toBe(303);
      expect((await membershipsOf(user.id))[0].status).toBe('active');
    });
  });

  describe('your organisations: leaving and joining again', () => {
    it('leaves after a confirmation, and joins again on the same row (active at once on the domain, else pending)', async () => {
      const domain = `leeds-${process.pid}-${++counter}.nhs.uk`;
      const trust = await createOrganisation(t, { name: unique('Leeds Community Healthcare NHS Trust'), domains: [domain] });
      const boss = await manager(trust.id);
      const person = await t.signedIn('learner', { email: `sam.${counter}@${domain}` });
      await addMember(t, trust.id, person.userId);
      const visibility = t.app.get(StaffVisibility);
      expect(await visibility.managerMaySee(boss.userId, person.userId)).toBe(true);

      const page = await person.get('/account/organisations');
      expect(page.body).toContain(trust.name);
      expect(page.body).toContain(`Managers of ${trust.name} can see your progress.`);
      expect(page.body).toContain('Test org_manager');
      expect(page.body).toContain(`href="/account/organisations/${trust.id}/leave"`);
      const confirm = await person.get(`/account/organisations/${trust.id}/leave`);
      expect(confirm.status).toBe(200);
      expect(confirm.body).toContain(`Leave ${trust.name}?`);
      expect((await person.submit(`/account/organisations/${trust.id}/leave`, {}, { withCsrf: false })).status).toBe(403);
      expect((await membershipIn(person.userId, trust.id)).status).toBe('active');
      const left = await person.submit(`/account/organisations/${trust.id}/leave`, {});
      expect(left.status).toBe(303);
      expect((await person.get(left.headers.location as string)).body).toContain(`You have left ${trust.name}`);
      expect((await membershipIn(person.userId, trust.id)).status).toBe('left');
      expect(await visibility.managerMaySee(boss.userId, person.userId)).toBe(false);
      // Gone is gone: no second leaving, no confirmation page.
      expect((await person.get(`/account/organisations/${trust.id}/leave`)).status).toBe(404);
      expect((await person.submit(`/account/organisations/${trust.id}/leave`, {})).status).toBe(404);

      // Joining again reopens the one row; the verified address is on the domain, so at once.
      const again = await person.get('/account/organisations');
      expect(again.body).toContain('Ask to join again');
      const rejoined = await person.submit('/account/organisations', { organisation: trust.name, organisationMatched: trust.name, organisationChoice: String(trust.id) });
      expect(rejoined.status).toBe(303);
      expect(rejoined.headers.location).toBe(`/account/organisations?notice=joined&organisation=${trust.id}`);
      const rows = (await membershipsOf(person.userId)).filter((m) => m.organisationId === trust.id);
      expect(rows.map((m) => m.status)).toEqual(['active']);
      expect(await visibility.managerMaySee(boss.userId, person.userId)).toBe(true);
    });

    it('joins another organisation with the same picker; off the domain it waits for a manager, who hears once', async () => {
      const federation = await createOrganisation(t, { name: unique('Leeds GP Confederation'), type: 'gp_federation', odsCode: 'QWE1' });
      const boss = await manager(federation.id);
      const person = await t.signedIn('learner');
      // Verified, and a member of nothing yet (not even the Test Trust that t.signedIn named).
      await db.getRepository(User).update({ id: person.userId }, { emailVerifiedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([person.userId]);
      await db.getRepository(Membership).delete({ userId: person.userId });
      await person.get('/account/organisations');
      const exact = await person.submit('/account/organisations', { organisation: 'qwe1' });
      expect(exact.status).toBe(303);
      expect(exact.headers.location).toBe(`/account/organisations?notice=asked&organisation=${federation.id}`);
      expect((await person.get(exact.headers.location as string)).body).toContain(`You have asked to join ${federation.name}. We have told its managers`);
      expect((await membershipsOf(person.userId)).map((m) => [m.organisationId, m.status])).toEqual([[federation.id, 'pending']]);
      // Asking again changes nothing and e-mails nobody again.
      expect((await person.submit('/account/organisations', { organisation: federation.name })).headers.location).toBe(`/account/organisations?notice=already&organisation=${federation.id}`);
      await t.drainJobs();
      expect(await db.getRepository(MailMessage).countBy({ toAddress: boss.email, template: 'join-request' })).toBe(1);

      // Close matches come back as radios on this page too, and nothing is joined until one is chosen.
      const word = federation.name.split(' ').slice(0, 2).join(' ');
      const offered = await person.submit('/account/organisations', { organisation: word });
      expect(offered.status).toBe(200);
      expect(offered.body).toContain('Which organisation do you mean?');
      expect(offered.body).toContain(`value="${federation.id}"`);
      const empty = await person.submit('/account/organisations', { organisation: 'x' });
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('Enter the name of your organisation');
      // Withdrawing a request is leaving it.
      expect((await person.submit(`/account/organisations/${federation.id}/leave`, {})).status).toBe(303);
      expect((await membershipIn(person.userId, federation.id)).status).toBe('left');
    });

    it('refuses the last manager of an organisation with staff, with the reason; lets them go once another manager is there', async () => {
      const trust = await createOrganisation(t, { name: unique('Mid Yorkshire Teaching NHS Trust') });
      const only = await manager(trust.id);
      const staff = await t.signedIn('learner');
      await addMember(t, trust.id, staff.userId);
      await only.get(`/account/organisations/${trust.id}/leave`);
      const refused = await only.submit(`/account/organisations/${trust.id}/leave`, {});
      expect(refused.status).toBe(409);
      expect(refused.body).toContain(decodeHtml(lastManagerMessage(trust.name)).replace(/'/g, '&#x27;'));
      expect((await membershipIn(only.userId, trust.id))).toMatchObject({ status: 'active', isManager: true });

      const second = await manager(trust.id);
      expect((await only.submit(`/account/organisations/${trust.id}/leave`, {})).status).toBe(303);
      expect((await membershipIn(only.userId, trust.id))).toMatchObject({ status: 'left', isManager: false });
      // They managed nothing else: an organisation manager no more.
      expect((await db.getRepository(User).findOneByOrFail({ id: only.userId })).role).toBe('learner');

      // The last manager of an organisation without staff may go.
      await db.getRepository(Membership).update({ organisationId: trust.id, userId: staff.userId }, { status: 'left' });
      await second.get('/account');
      expect((await second.submit(`/account/organisations/${trust.id}/leave`, {})).status).toBe(303);
    });

    it('is private: signed-out visitors are sent to sign in, and no one can leave for someone else', async () => {
      const trust = await createOrganisation(t, { name: unique('Kirklees Council'), type: 'local_authority' });
      const person = await t.signedIn('learner');
      await addMember(t, trust.id, person.userId);
      expect((await t.visitor().get('/account/organisations')).status).toBe(303);
      const stranger = await t.signedIn('learner');
      expect((await stranger.get(`/account/organisations/${trust.id}/leave`)).status).toBe(404);
      expect((await stranger.submit(`/account/organisations/${trust.id}/leave`, {})).status).toBe(404);
      expect((await membershipIn(person.userId, trust.id)).status).toBe('active');
      expect((await stranger.get('/account/organisations/abc/leave')).status).toBe(404);
    });
  });

  describe('the public search', () => {
    it('finds active organisations only, by name start, word start and ODS code, at most 20, and nothing for short text', async () => {
      const word = unique('Skipton');
      const active = await createOrganisation(t, { name: `${word} Medical Practice`, type: 'gp_practice', region: 'north_east_yorkshire', odsCode: 'B82005' });
      const middle = await createOrganisation(t, { name: `Craven and ${word} PCN`, type: 'gp_practice' });
      await db.getRepository(Organisation).update({ id: middle.id }, { region: null });
      await createOrganisation(t, { name: `${word} Requested Surgery`, status: 'requested' });
      await createOrganisation(t, { name: `${word} Declined Surgery`, status: 'declined' });
      await createOrganisation(t, { name: `${word} Merged Surgery`, status: 'merged' });
      const visitor = t.visitor();
      const search = async (q: string) => {
        const answer = await visitor.get(`/api/v1/organisations?q=${encodeURIComponent(q)}`);
        expect(answer.status).toBe(200);
        return answer.json() as Array<Record<string, unknown>>;
      };
      expect(await search(word.toUpperCase())).toEqual([
        { id: active.id, name: active.name, type: 'gp_practice', typeLabel: 'GP practice or primary care network (PCN)', region: 'north_east_yorkshire', regionLabel: 'North East and Yorkshire', odsCode: 'B82005' },
        { id: middle.id, name: middle.name, type: 'gp_practice', typeLabel: 'GP practice or primary care network (PCN)', region: null, regionLabel: null, odsCode: null },
      ]);
      expect((await search('b82005')).map((o) => o.id)).toEqual([active.id]);
      expect((await search(`craven ${word.slice(0, 4)}`)).map((o) => o.id)).toEqual([middle.id]);
      expect(await search('s')).toEqual([]);
      expect(await search('%%')).toEqual([]);
      expect((await visitor.get('/api/v1/organisations')).json()).toEqual([]);
      expect((await visitor.get(`/api/v1/organisations?q=${'x'.repeat(101)}`)).status).toBe(400);

      const many = unique('Ilkley');
      for (let i = 0; i < 22; i++) await createOrganisation(t, { name: `${many} Branch ${String(i).padStart(2, '0')}` });
      const limited = await search(many);
      expect(limited).toHaveLength(20);
      expect(limited[0].name).toBe(`${many} Branch 00`);
    });
  });

  describe('a verification link past its week', () => {
    it('is refused with a clear page and changes nothing', async () => {
      const { email } = await signUp('Test Trust');
      const link = await verificationLink(email);
      t.app.get(Clock).travel(7 * 24 * 3600_000 + 60_000);
      const answer = await t.visitor().get(link);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('This link has expired');
      expect((await userByEmail(email)).emailVerifiedAt).toBeNull();
      // A new one, asked for now, works.
      const again = t.visitor();
      await again.signIn(email, PASSWORD);
      await again.submit('/account/verify-email', {});
      expect((await t.visitor().get(await verificationLink(email))).status).toBe(200);
      expect((await userByEmail(email)).emailVerifiedAt).toBeInstanceOf(Date);
    });
  });
});
