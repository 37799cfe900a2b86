import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import type { Role } from '../../src/accounts/roles';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { OrganisationDomain } from '../../src/organisations/entities/organisation-domain.entity';
import { Organisation } from '../../src/organisations/entities/organisation.entity';
import { LAST_MANAGER_MESSAGE } from '../../src/organisations/organisation-admin.service';
import { ODS_CODE_MESSAGE } from '../../src/organisations/organisation-kinds';
import { course } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';

type Signed = Visitor & { email: string; password: string; userId: number };

let sequence = 0;
/** Now as a DATETIME literal both engines read (raw queries bind no Date on SQLite). */
const sqlNow = () => new Date().toISOString().replace('T', ' ').replace('Z', '');
const unique = (label: string) => `${label} ${process.pid}-${++sequence}`;

describe('administration of organisations (/admin/organisations)', () => {
  let t: TestApp;
  let admin: Signed;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.signedIn('admin', { name: 'Ada Admin' });
    ds = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const organisationRow = (id: number) => ds.getRepository(Organisation).findOneByOrFail({ id });
  const membership = (organisationId: number, userId: number) => ds.getRepository(Membership).findOne({ where: { organisationId, userId } });
  const roleOf = async (id: number) => (await ds.getRepository(User).findOneByOrFail({ id })).role;
  async function auditOf(organisationId: number): Promise<Array<{ action: string; actor_id: number | null; details: Record<string, any> }>> {
    const rows: Array<{ action: string; actor_id: number | string | null; details: string }> = await ds.query(
      `SELECT action, actor_id, details FROM audit_log WHERE target_type = 'organisation' AND target_id = ? ORDER BY id`,
      [organisationId],
    );
    return rows.map((r) => ({ action: r.action, actor_id: r.actor_id === null ? null : Number(r.actor_id), details: JSON.parse(r.details) }));
  }
  /** A person whose e-mail address is verified (or not), without a membership. */
  async function person(options: { verified?: boolean; role?: Role; name?: string; domain?: string } = {}): Promise<{ id: number; email: string; name: string }> {
    const name = options.name ?? unique('Person');
    const email = options.domain ? `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@${options.domain}` : uniqueEmail('person');
    const result = await ds.getRepository(User).insert({
      email,
      name,
      passwordHash: 'not a hash',
      role: options.role ?? 'learner',
      organisationId: null,
      jobRole: 'Tester',
      createdAt: new Date(),
      lastSignInAt: null,
      emailVerifiedAt: options.verified === false ? null : new Date(),
      deactivatedAt: null,
    });
    return { id: Number(result.identifiers[0].id), email, name };
  }
  async function pendingMember(organisationId: number, userId: number) {
    const now = new Date();
    await ds.getRepository(Membership).insert({ organisationId, userId, status: 'pending', isManager: false, requestedAt: now, joinedAt: null, updatedAt: now, decidedById: null });
  }

  describe('who may', () => {
    it('refuses learners, authors and organisation managers every page and every form (403), changing nothing', async () => {
      const organisation = await createOrganisation(t, { domains: [`refused-${process.pid}.nhs.uk`] });
      const other = await createOrganisation(t);
      const manager = await person();
      await addMember(t, organisation.id, manager.id, { manager: true });
      const domain = await ds.getRepository(OrganisationDomain).findOneByOrFail({ organisationId: organisation.id });
      const id = organisation.id;
      const pages = [
        '/admin/organisations',
        '/admin/organisations?status=requested&type=nhs_trust&q=x',
        '/admin/organisations/new',
        `/admin/organisations/${id}`,
        `/admin/organisations/${id}/edit`,
        `/admin/organisations/${id}/decline`,
        `/admin/organisations/${id}/merge?q=test`,
        `/admin/organisations/${id}/merge/confirm?into=${other.id}`,
        `/admin/organisations/${id}/domains/${domain.id}/remove`,
        `/admin/organisations/${id}/managers/${manager.id}/remove`,
      ];
      const forms: Array<[string, Record<string, string>]> = [
        ['/admin/organisations', { name: unique('Refused Trust'), type: 'nhs_trust' }],
        [`/admin/organisations/${id}/edit`, { name: 'Renamed', type: 'charity' }],
        [`/admin/organisations/${id}/approve`, {}],
        [`/admin/organisations/${id}/decline`, {}],
        [`/admin/organisations/${id}/merge`, { into: String(other.id) }],
        [`/admin/organisations/${id}/domains`, { domain: 'refused.example.org' }],
        [`/admin/organisations/${id}/domains/${domain.id}/remove`, {}],
        [`/admin/organisations/${id}/managers`, { email: manager.email }],
        [`/admin/organisations/${id}/managers/${manager.id}/remove`, {}],
      ];
      for (const role of ['learner', 'author', 'org_manager'] as Role[]) {
        const visitor = await t.signedIn(role);
        for (const url of pages) expect([url, role, (await visitor.get(url)).status]).toEqual([url, role, 403]);
        for (const [url, form] of forms) expect([url, role, (await visitor.submit(url, form)).status]).toEqual([url, role, 403]);
      }
      // Even a manager of this very organisation.
      const managing = await t.signedIn('org_manager');
      await addMember(t, organisation.id, managing.userId, { manager: true });
      expect((await managing.get(`/admin/organisations/${id}`)).status).toBe(403);
      expect((await managing.submit(`/admin/organisations/${id}/domains`, { domain: 'mine.example.org' })).status).toBe(403);

      const anonymous = t.visitor();
      for (const url of pages) expect((await anonymous.get(url)).headers.location).toMatch(/^\/sign-in/);
      expect(await organisationRow(id)).toMatchObject({ name: organisation.name, status: 'active' });
      expect(await ds.getRepository(OrganisationDomain).countBy({ organisationId: id })).toBe(1);
      expect(await auditOf(id)).toEqual([]);
    });

    it('answers unknown and malformed ids with a clear message, never a 500', async () => {
      const organisation = await createOrganisation(t);
      for (const url of ['/admin/organisations/999999', '/admin/organisations/abc', '/admin/organisations/999999/edit', '/admin/organisations/999999/merge']) {
        const answer = await admin.get(url);
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.body).toMatch(/There is no organisation (with that number|at this address)/);
      }
      const domain = await admin.get(`/admin/organisations/${organisation.id}/domains/999999/remove`);
      expect(domain.status).toBe(404);
      expect(domain.body).toContain('That domain is not one of this organisation’s verified domains');
      const manager = await admin.get(`/admin/organisations/${organisation.id}/managers/999999/remove`);
      expect(manager.status).toBe(404);
      expect(manager.body).toContain('That person is not a manager of this organisation');
      for (const [url, form] of [
        ['/admin/organisations/999999/approve', {}],
        ['/admin/organisations/999999/domains', { domain: 'nowhere.example.org' }],
        ['/admin/organisations/999999/managers', { email: admin.email }],
        [`/admin/organisations/${organisation.id}/domains/999999/remove`, {}],
        [`/admin/organisations/${organisation.id}/managers/999999/remove`, {}],
        [`/admin/organisations/${organisation.id}/managers/abc/remove`, {}],
      ] as Array<[string, Record<string, string>]>) {
        const answer = await admin.submit(url, form);
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.body).toMatch(/There is no|is not one of|is not a manager/);
      }
    });
  });

  describe('creating, editing and listing', () => {
    it('creates an organisation with a type, ODS code and region, and records it', async () => {
      await admin.get('/admin/organisations/new');
      const name = unique('Airedale NHS Foundation Trust');
      const answer = await admin.submit('/admin/organisations', { name: `  ${name} `, type: 'nhs_trust', odsCode: 'rr8', region: 'north_east_yorkshire' });
      expect(answer.status).toBe(303);
      const id = Number(/\/admin\/organisations\/(\d+)\?notice=created/.exec(answer.headers.location as string)![1]);
      expect(await organisationRow(id)).toMatchObject({ name, type: 'nhs_trust', odsCode: 'RR8', region: 'north_east_yorkshire', status: 'active' });
      const page = await admin.get(`/admin/organisations/${id}`);
      expect(page.body).toContain(name);
      expect(page.body).toContain('RR8');
      expect(page.body).toContain('North East and Yorkshire');
      expect(await auditOf(id)).toEqual([{ action: 'organisation.created', actor_id: admin.userId, details: { name, type: 'nhs_trust', odsCode: 'RR8', region: 'north_east_yorkshire' } }]);
    });

    it('refuses a bad ODS code, a missing type, and a name or ODS code already taken, saying which', async () => {
      const existing = await createOrganisation(t, { odsCode: `Q${String(process.pid % 1000).padStart(3, '0')}` });
      const bad = await admin.submit('/admin/organisations', { name: unique('Bad Code Trust'), type: 'nhs_trust', odsCode: 'R!' });
      expect(bad.status).toBe(400);
      expect(bad.body).toContain(ODS_CODE_MESSAGE);
      const untyped = await admin.submit('/admin/organisations', { name: unique('Untyped'), type: 'castle' });
      expect(untyped.status).toBe(400);
      expect(untyped.body).toContain('Choose the type of organisation');
      const taken = await admin.submit('/admin/organisations', { name: unique('Second Trust'), type: 'icb', odsCode: existing.odsCode!.toLowerCase() });
      expect(taken.status).toBe(409);
      expect(taken.body).toContain(`The ODS code ${existing.odsCode} already belongs to ${existing.name}`);
      const sameName = await admin.submit('/admin/organisations', { name: existing.name.toUpperCase(), type: 'icb' });
      expect(sameName.status).toBe(409);
      expect(sameName.body).toContain(`There is already an organisation called ${existing.name}`);
      expect(await ds.getRepository(Organisation).countBy({ odsCode: existing.odsCode! })).toBe(1);
    });

    it('edits its details, recording what changed from what, and nothing when nothing changed', async () => {
      const organisation = await createOrganisation(t, { type: 'other', region: 'wales' });
      const form = await admin.get(`/admin/organisations/${organisation.id}/edit`);
      expect(form.body).toContain(`value="${organisation.name}"`);
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/edit`, { name: organisation.name, type: 'gp_federation', odsCode: '', region: 'london' });
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=saved`);
      expect(await organisationRow(organisation.id)).toMatchObject({ type: 'gp_federation', region: 'london', odsCode: null });
      const again = await admin.submit(`/admin/organisations/${organisation.id}/edit`, { name: organisation.name, type: 'gp_federation', odsCode: '', region: 'london' });
      expect(again.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=unchanged`);
      expect(await auditOf(organisation.id)).toEqual([{ action: 'organisation.updated', actor_id: admin.userId, details: { type: { from: 'other', to: 'gp_federation' }, region: { from: 'wales', to: 'london' } } }]);
      const invalid = await admin.submit(`/admin/organisations/${organisation.id}/edit`, { name: 'X', type: 'gp_federation', region: 'atlantis' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toContain('Enter the organisation’s name, 2 to 150 characters');
      expect(invalid.body).toContain('Choose a region from the list');
    });

    it('lists them by name with member counts, filtered by name, ODS code, status and type', async () => {
      const stem = unique('Listing');
      const a = await createOrganisation(t, { name: `${stem} Alpha`, type: 'charity', odsCode: `L${String(process.pid % 100000).padStart(5, '0')}`.slice(0, 6) });
      const b = await createOrganisation(t, { name: `${stem} Beta`, type: 'nhs_trust', status: 'requested' });
      await addMember(t, a.id, (await person()).id);
      await addMember(t, a.id, (await person()).id);
      await pendingMember(a.id, (await person()).id);
      const all = await admin.get(`/admin/organisations?q=${encodeURIComponent(stem.toLowerCase())}`);
      expect(all.status).toBe(200);
      const names = [...all.body.matchAll(/href="\/admin\/organisations\/(\d+)">([^<]+)</g)].map((m) => Number(m[1]));
      expect(names).toEqual([a.id, b.id]);
      expect(all.body).toMatch(new RegExp(`${stem} Alpha</a>[\\s\\S]*?numeric">2</td>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1</td>`));
      expect((await admin.get(`/admin/organisations?q=${stem}&status=requested`)).body).not.toContain(`${stem} Alpha`);
      expect((await admin.get(`/admin/organisations?q=${stem}&type=charity`)).body).not.toContain(`${stem} Beta`);
      expect((await admin.get(`/admin/organisations?q=${a.odsCode!.toLowerCase()}`)).body).toContain(`${stem} Alpha`);
      expect((await admin.get('/admin/organisations?status=requested')).body).toContain(`${stem} Beta`);
      expect((await admin.get('/admin')).body).toMatch(/Organisations<\/a>.*waiting/);
    });
  });

  describe('requested organisations', () => {
    it('approves one: it becomes active and the people waiting to join it keep waiting for a manager', async () => {
      const requester = await person({ name: unique('Requester') });
      const organisation = await createOrganisation(t, { status: 'requested' });
      await ds.getRepository(Organisation).update({ id: organisation.id }, { requestedById: requester.id });
      await pendingMember(organisation.id, requester.id);
      const page = await admin.get(`/admin/organisations/${organisation.id}`);
      expect(page.body).toContain('Approve this organisation');
      expect(page.body).toContain(requester.name);
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/approve`, {});
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=approved`);
      expect((await organisationRow(organisation.id)).status).toBe('active');
      expect((await membership(organisation.id, requester.id))!.status).toBe('pending');
      expect(await auditOf(organisation.id)).toEqual([{ action: 'organisation.approved', actor_id: admin.userId, details: { pendingMembers: 1 } }]);
      const twice = await admin.submit(`/admin/organisations/${organisation.id}/approve`, {});
      expect(twice.status).toBe(409);
      expect(twice.body).toContain('Only a requested organisation can be approved');
    });

    it('declines one after confirming: its pending memberships are declined', async () => {
      const organisation = await createOrganisation(t, { status: 'requested' });
      const waiting = await person();
      await pendingMember(organisation.id, waiting.id);
      const confirm = await admin.get(`/admin/organisations/${organisation.id}/decline`);
      expect(confirm.body).toContain(`Decline ${organisation.name}?`);
      expect(confirm.body).toContain('The 1 request to join it will be declined');
      expect((await organisationRow(organisation.id)).status).toBe('requested');
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/decline`, {});
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=declined`);
      expect((await organisationRow(organisation.id)).status).toBe('declined');
      expect((await membership(organisation.id, waiting.id))!).toMatchObject({ status: 'declined', decidedById: admin.userId });
      expect(await auditOf(organisation.id)).toEqual([{ action: 'organisation.declined', actor_id: admin.userId, details: { membershipsDeclined: 1 } }]);
      expect((await admin.submit(`/admin/organisations/${organisation.id}/decline`, {})).status).toBe(409);
    });
  });

  describe('merging a duplicate', () => {
    it('moves memberships (the further one kept for people in both), accounts, domains and requirements; the duplicate is marked merged', async () => {
      const keep = await createOrganisation(t, { name: unique('Leeds Teaching Hospitals') });
      const duplicate = await createOrganisation(t, { name: unique('Leeds Teaching Hosp'), odsCode: `RR${String(process.pid % 10000).padStart(4, '0')}`, domains: [`dup-${process.pid}.nhs.uk`] });
      const onlyActive = await person();
      const onlyPending = await person();
      const both = await person();
      const leftHere = await person();
      await addMember(t, duplicate.id, onlyActive.id);
      await pendingMember(duplicate.id, onlyPending.id);
      await addMember(t, duplicate.id, both.id, { manager: true });
      await pendingMember(keep.id, both.id);
      await addMember(t, duplicate.id, leftHere.id);
      await ds.getRepository(Membership).update({ organisationId: duplicate.id, userId: leftHere.id }, { status: 'left' });
      await addMember(t, keep.id, leftHere.id);
      await ds.getRepository(User).update({ id: onlyActive.id }, { organisationId: duplicate.id });
      await t.app.get(AccountsService).identitiesChanged([onlyActive.id]);
      const author = await t.signedIn('author');
      const required = await course(t, { authorId: author.userId });
      await ds.query(`INSERT INTO organisation_requirements (organisation_id, course_id, audience, due_kind, due_days, due_date, renewal_months, created_by_id, created_at, updated_at, archived_at) VALUES (?, ?, 'everyone', 'days', 30, NULL, NULL, NULL, ?, ?, NULL)`, [
        duplicate.id,
        required.id,
        sqlNow(),
        sqlNow(),
      ]);

      const search = await admin.get(`/admin/organisations/${duplicate.id}/merge?q=${encodeURIComponent(keep.name.slice(0, 20).toLowerCase())}`);
      expect(search.status).toBe(200);
      expect(search.body).toContain(`value="${keep.id}"`);
      expect(search.body).not.toContain(`value="${duplicate.id}"`);
      const confirm = await admin.get(`/admin/organisations/${duplicate.id}/merge/confirm?into=${keep.id}`);
      expect(confirm.status).toBe(200);
      expect(confirm.body).toContain(`Merge ${duplicate.name} into ${keep.name}?`);
      expect(confirm.body).toContain('4 memberships (2 of these people are in both');
      expect(confirm.body).toContain('1 account that names it');
      expect(confirm.body).toContain('1 verified domain');
      expect(confirm.body).toContain('1 required learning requirement');
      expect((await organisationRow(duplicate.id)).status).toBe('active');

      const answer = await admin.submit(`/admin/organisations/${duplicate.id}/merge`, { into: String(keep.id) });
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/admin/organisations/${keep.id}?notice=merged`);
      expect(await organisationRow(duplicate.id)).toMatchObject({ status: 'merged', mergedIntoId: keep.id, odsCode: null });
      expect((await organisationRow(keep.id)).odsCode).toBe(duplicate.odsCode);
      expect(await ds.getRepository(Membership).countBy({ organisationId: duplicate.id })).toBe(0);
      expect(await membership(keep.id, onlyActive.id)).toMatchObject({ status: 'active', isManager: false });
      expect(await membership(keep.id, onlyPending.id)).toMatchObject({ status: 'pending' });
      expect(await membership(keep.id, both.id)).toMatchObject({ status: 'active', isManager: true });
      expect(await membership(keep.id, leftHere.id)).toMatchObject({ status: 'active' });
      expect((await ds.getRepository(User).findOneByOrFail({ id: onlyActive.id })).organisationId).toBe(keep.id);
      expect(await ds.getRepository(OrganisationDomain).findOneByOrFail({ domain: `dup-${process.pid}.nhs.uk` })).toMatchObject({ organisationId: keep.id });
      const [{ n }] = await ds.query('SELECT COUNT(*) AS n FROM organisation_requirements WHERE organisation_id = ?', [keep.id]);
      expect(Number(n)).toBe(1);
      const [entry] = await auditOf(duplicate.id);
      expect(entry).toMatchObject({ action: 'organisation.merged', actor_id: admin.userId, details: { into: { id: keep.id, name: keep.name }, moved: 2, combined: 2, accounts: 1, domains: 1, requirements: 1 } });

      const merged = await admin.get(`/admin/organisations/${duplicate.id}`);
      expect(merged.body).toContain('Merged');
      expect(merged.body).toContain(`href="/admin/organisations/${keep.id}">${keep.name}</a>`);
      expect(merged.body).not.toContain('/merge"');
    });

    it('refuses merging into itself, into a merged or requested organisation, or into one that does not exist, with a clear message', async () => {
      const duplicate = await createOrganisation(t);
      const merged = await createOrganisation(t, { status: 'merged' });
      const requested = await createOrganisation(t, { status: 'requested' });
      const cases: Array<[string, RegExp]> = [
        [String(duplicate.id), /cannot be merged into itself/],
        [String(merged.id), /has itself been merged into another organisation/],
        [String(requested.id), /is requested, not active/],
        ['999999', /There is no organisation with the number 999999/],
        ['abc', /Choose the organisation to merge this one into/],
      ];
      for (const [into, message] of cases) {
        const confirm = await admin.get(`/admin/organisations/${duplicate.id}/merge/confirm?into=${into}`);
        expect([into, confirm.status]).toEqual([into, 400]);
        expect(confirm.body).toMatch(message);
        const post = await admin.submit(`/admin/organisations/${duplicate.id}/merge`, { into });
        expect([into, post.status]).toEqual([into, 400]);
        expect(post.body).toMatch(message);
      }
      const again = await admin.submit(`/admin/organisations/${merged.id}/merge`, { into: String(duplicate.id) });
      expect(again.status).toBe(409);
      expect(again.body).toContain('already been merged');
      expect((await organisationRow(duplicate.id)).status).toBe('active');
      expect(await auditOf(duplicate.id)).toEqual([]);
    });
  });

  describe('verified domains', () => {
    it('adds a domain, and members waiting with a verified address on it become active; others keep waiting', async () => {
      const organisation = await createOrganisation(t);
      const domain = `calderdale-${process.pid}.nhs.uk`;
      const onIt = await person({ domain });
      const unverified = await person({ domain, verified: false });
      const elsewhere = await person();
      const notMember = await person({ domain });
      for (const p of [onIt, unverified, elsewhere]) await pendingMember(organisation.id, p.id);
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/domains`, { domain: `@${domain.toUpperCase()}` });
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=domain-added&activated=1`);
      expect((await admin.get(answer.headers.location as string)).body).toContain('1 person waiting to join with a verified address on this domain became members');
      expect(await ds.getRepository(OrganisationDomain).findOneByOrFail({ domain })).toMatchObject({ organisationId: organisation.id });
      expect(await membership(organisation.id, onIt.id)).toMatchObject({ status: 'active', decidedById: admin.userId });
      expect((await membership(organisation.id, unverified.id))!.status).toBe('pending');
      expect((await membership(organisation.id, elsewhere.id))!.status).toBe('pending');
      expect(await membership(organisation.id, notMember.id)).toBeNull();
      expect(await auditOf(organisation.id)).toEqual([{ action: 'organisation.domain_added', actor_id: admin.userId, details: { domain, membershipsActivated: 1 } }]);
    });

    it('refuses something that is not a domain, and a domain another organisation has, naming it', async () => {
      const owner = await createOrganisation(t, { domains: [`owned-${process.pid}.nhs.uk`] });
      const organisation = await createOrganisation(t);
      const invalid = await admin.submit(`/admin/organisations/${organisation.id}/domains`, { domain: 'not a domain' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toContain('Enter a domain like leedsth.nhs.uk');
      const taken = await admin.submit(`/admin/organisations/${organisation.id}/domains`, { domain: `Owned-${process.pid}.NHS.uk` });
      expect(taken.status).toBe(409);
      expect(taken.body).toContain(`The domain owned-${process.pid}.nhs.uk is already verified for ${owner.name}`);
      expect(await ds.getRepository(OrganisationDomain).countBy({ organisationId: organisation.id })).toBe(0);
    });

    it("removes a domain after confirming; members stay; another organisation's domain is not found", async () => {
      const organisation = await createOrganisation(t, { domains: [`remove-${process.pid}.nhs.uk`] });
      const other = await createOrganisation(t, { domains: [`foreign-${process.pid}.nhs.uk`] });
      const member = await person();
      await addMember(t, organisation.id, member.id);
      const row = await ds.getRepository(OrganisationDomain).findOneByOrFail({ organisationId: organisation.id });
      const foreign = await ds.getRepository(OrganisationDomain).findOneByOrFail({ organisationId: other.id });
      expect((await admin.get(`/admin/organisations/${organisation.id}/domains/${foreign.id}/remove`)).status).toBe(404);
      expect((await admin.submit(`/admin/organisations/${organisation.id}/domains/${foreign.id}/remove`, {})).status).toBe(404);
      expect(await ds.getRepository(OrganisationDomain).countBy({ id: foreign.id })).toBe(1);
      const confirm = await admin.get(`/admin/organisations/${organisation.id}/domains/${row.id}/remove`);
      expect(confirm.body).toContain(`Remove the domain remove-${process.pid}.nhs.uk from ${organisation.name}?`);
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/domains/${row.id}/remove`, {});
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=domain-removed`);
      expect(await ds.getRepository(OrganisationDomain).countBy({ organisationId: organisation.id })).toBe(0);
      expect((await membership(organisation.id, member.id))!.status).toBe('active');
      expect((await auditOf(organisation.id)).map((e) => e.action)).toEqual(['organisation.domain_removed']);
    });
  });

  describe('managers', () => {
    it('appoints an active member: they manage it, and a learner becomes an organisation manager', async () => {
      const organisation = await createOrganisation(t);
      const member = await t.signedIn('learner', { name: unique('Member') });
      await addMember(t, organisation.id, member.userId);
      expect((await member.get('/organisation')).status).toBe(403);
      const answer = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: member.email.toUpperCase() });
      expect(answer.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=manager-appointed`);
      expect(await membership(organisation.id, member.userId)).toMatchObject({ status: 'active', isManager: true });
      expect(await roleOf(member.userId)).toBe('org_manager');
      expect((await member.get(`/organisation/${organisation.id}`)).status).toBe(200);
      expect((await admin.get(`/admin/organisations/${organisation.id}`)).body).toContain(member.email);
      expect(await auditOf(organisation.id)).toEqual([
        { action: 'organisation.manager_appointed', actor_id: admin.userId, details: { userId: member.userId, name: expect.any(String), email: member.email, addedAsMember: false, role: { from: 'learner', to: 'org_manager' } } },
      ]);
      const twice = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: member.email });
      expect(twice.status).toBe(409);
      expect(twice.body).toContain('is already a manager of');
    });

    it('offers to add a verified person who is not a member, and keeps an author an author', async () => {
      const organisation = await createOrganisation(t);
      const outsider = await person({ role: 'author', name: unique('Outsider') });
      await pendingMember(organisation.id, outsider.id);
      const offer = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: outsider.email });
      expect(offer.status).toBe(200);
      expect(offer.body).toContain(`Add ${outsider.name} to ${organisation.name} and appoint them?`);
      expect(offer.body).toContain('is waiting to join');
      expect(offer.body).toContain('name="addAsMember" value="yes"');
      expect((await membership(organisation.id, outsider.id))!).toMatchObject({ status: 'pending', isManager: false });
      const yes = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: outsider.email, addAsMember: 'yes' });
      expect(yes.status).toBe(303);
      expect(await membership(organisation.id, outsider.id)).toMatchObject({ status: 'active', isManager: true, decidedById: admin.userId });
      expect(await roleOf(outsider.id)).toBe('author');
      const [entry] = await auditOf(organisation.id);
      expect(entry.details).toMatchObject({ addedAsMember: true, membershipWas: 'pending' });
      expect(entry.details.role).toBeUndefined();
    });

    it('refuses someone unverified, unknown or deactivated, saying why', async () => {
      const organisation = await createOrganisation(t);
      const unverified = await person({ verified: false });
      const refused = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: unverified.email, addAsMember: 'yes' });
      expect(refused.status).toBe(409);
      expect(refused.body).toContain('has not verified their e-mail address yet');
      const unknown = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: 'nobody.at.all@example.org' });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toContain('There is no account with the e-mail address nobody.at.all@example.org');
      const empty = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: '' });
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('Enter the e-mail address of the person to appoint');
      const gone = await person();
      await ds.getRepository(User).update({ id: gone.id }, { deactivatedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([gone.id]);
      const deactivated = await admin.submit(`/admin/organisations/${organisation.id}/managers`, { email: gone.email, addAsMember: 'yes' });
      expect(deactivated.status).toBe(409);
      expect(deactivated.body).toContain('account is deactivated');
      expect(await ds.getRepository(Membership).countBy({ organisationId: organisation.id })).toBe(0);
      expect(await auditOf(organisation.id)).toEqual([]);
    });

    it('refuses to remove the last manager of an organisation with staff; removes one of two; the role drops only when they manage nothing else', async () => {
      const organisation = await createOrganisation(t);
      const elsewhere = await createOrganisation(t);
      const first = await person({ role: 'org_manager' });
      const second = await person({ role: 'org_manager' });
      const staff = await person();
      await addMember(t, organisation.id, first.id, { manager: true });
      await addMember(t, organisation.id, staff.id);
      await addMember(t, elsewhere.id, first.id, { manager: true });

      const confirm = await admin.get(`/admin/organisations/${organisation.id}/managers/${first.id}/remove`);
      expect(confirm.body).toContain(`Remove ${first.name} as a manager of ${organisation.name}?`);
      const last = await admin.submit(`/admin/organisations/${organisation.id}/managers/${first.id}/remove`, {});
      expect(last.status).toBe(409);
      expect(last.body).toContain(LAST_MANAGER_MESSAGE);
      expect((await membership(organisation.id, first.id))!.isManager).toBe(true);
      const nonManager = await admin.submit(`/admin/organisations/${organisation.id}/managers/${staff.id}/remove`, {});
      expect(nonManager.status).toBe(404);
      expect(nonManager.body).toContain('That person is not a manager of this organisation');

      await addMember(t, organisation.id, second.id, { manager: true });
      const removed = await admin.submit(`/admin/organisations/${organisation.id}/managers/${first.id}/remove`, {});
      expect(removed.headers.location).toBe(`/admin/organisations/${organisation.id}?notice=manager-removed`);
      expect(await membership(organisation.id, first.id)).toMatchObject({ status: 'active', isManager: false });
      expect(await roleOf(first.id)).toBe('org_manager');

      // The last manager of an organisation with nobody else in it may go; their role goes back to learner.
      await admin.submit(`/admin/organisations/${elsewhere.id}/managers/${first.id}/remove`, {});
      expect((await membership(elsewhere.id, first.id))!.isManager).toBe(false);
      expect(await roleOf(first.id)).toBe('learner');
      expect((await auditOf(elsewhere.id)).map((e) => [e.action, e.details.role])).toEqual([['organisation.manager_removed', { from: 'org_manager', to: 'learner' }]]);
      expect((await auditOf(organisation.id)).map((e) => e.action)).toEqual(['organisation.manager_removed']);
    });

    it('keeps one manager when two administrators remove the last two at the same moment', async () => {
      for (let round = 0; round < 3; round++) {
        const organisation = await createOrganisation(t);
        const [one, two, staff] = [await person({ role: 'org_manager' }), await person({ role: 'org_manager' }), await person()];
        await addMember(t, organisation.id, one.id, { manager: true });
        await addMember(t, organisation.id, two.id, { manager: true });
        await addMember(t, organisation.id, staff.id);
        const other = await t.signedIn('admin');
        const answers = await Promise.all([admin.submit(`/admin/organisations/${organisation.id}/managers/${one.id}/remove`, {}), other.submit(`/admin/organisations/${organisation.id}/managers/${two.id}/remove`, {})]);
        expect(answers.map((a) => a.status).sort()).toEqual([303, 409]);
        expect(await ds.getRepository(Membership).countBy({ organisationId: organisation.id, isManager: true })).toBe(1);
      }
    });
  });
});
