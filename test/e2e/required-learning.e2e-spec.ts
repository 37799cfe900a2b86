import { DataSource, In, Like } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { londonFields, londonIsoDate, londonToUtc } from '../../src/common/london-time';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LearningService } from '../../src/learning/learning.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { addDays, addMonths, isoWeekOf } from '../../src/organisations/compliance-rules';
import { ComplianceService } from '../../src/organisations/compliance.service';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { RequirementDigest } from '../../src/organisations/entities/requirement-digest.entity';
import { RequirementNotice } from '../../src/organisations/entities/requirement-notice.entity';
import { OrganisationRequirement } from '../../src/organisations/entities/requirement.entity';
import { RequirementMailer } from '../../src/organisations/organisations.jobs';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { course, fullCourse } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { usingRealEngines } from '../support/engines';

type Signed = Visitor & { userId: number; email: string; password: string };
const DAY = 24 * 3600_000;

let certificateCounter = 0;

/** Shared arrangements: people inserted straight into the database, certificates with chosen dates. */
function arrange(t: TestApp) {
  const ds = t.app.get(DataSource);
  return {
    ds,
    async person(name: string, jobRole = 'Staff nurse'): Promise<number> {
      const repo = ds.getRepository(User);
      const user = repo.create({ email: uniqueEmail(name.split(' ')[0].toLowerCase()), name, passwordHash: 'not a hash', role: 'learner', organisationId: null, jobRole, createdAt: new Date(), lastSignInAt: null, emailVerifiedAt: null, deactivatedAt: null });
      return Number((await repo.insert(user)).identifiers[0].id);
    },
    async certificate(userId: number, courseId: number, achievedAt: Date, status: 'valid' | 'revoked' = 'valid') {
      const n = ++certificateCounter;
      await ds.getRepository(Certificate).insert({
        code: `RL-${process.pid % 10000}-${n}`,
        userId,
        subjectType: 'course',
        subjectId: courseId,
        revision: n,
        subjectTitle: 'Required course',
        holderName: 'Someone',
        cpdMinutes: 30,
        achievedAt,
        issuedAt: achievedAt,
        fileKey: 'test/none.pdf',
        sha256: '0'.repeat(64),
        recipientSalt: '0'.repeat(32),
        status,
        revokedAt: status === 'revoked' ? achievedAt : null,
        revokedReason: status === 'revoked' ? 'Test' : null,
      });
    },
    /** A requirement straight into the database (the form is tested on its own). */
    async requirement(organisationId: number, courseId: number, values: Partial<Pick<OrganisationRequirement, 'audience' | 'dueKind' | 'dueDays' | 'dueDate' | 'renewalMonths' | 'createdAt'>> = {}): Promise<number> {
      const now = t.app.get(Clock).now();
      const result = await ds.getRepository(OrganisationRequirement).insert({ organisationId, courseId, audience: 'everyone', dueKind: 'days', dueDays: 30, dueDate: null, renewalMonths: null, createdById: null, createdAt: now, updatedAt: now, archivedAt: null, ...values });
      return Number(result.identifiers[0].id);
    },
  };
}

/** Where each person stands on one requirement, from the service (by user id). */
async function standings(t: TestApp, organisationId: number, requirementId: number) {
  const result = await t.app.get(ComplianceService).audience(organisationId, requirementId);
  return new Map((result?.people ?? []).map((p) => [p.userId, p]));
}

const field = (html: string, id: string) => new RegExp(`id="${id}-error"[^>]*>[\\s\\S]*?</span>\\s*([^<]+)</span>`).exec(html)?.[1].trim();

describe('required learning: pages, forms and who may use them', () => {
  let t: TestApp;
  let a: ReturnType<typeof arrange>;
  let managerA: Signed;
  let managerB: Signed;
  let learner: Signed;
  let admin: Signed;
  let author: Signed;
  let orgA: number;
  let orgB: number;
  let orgAName: string;
  let courseOne: { id: number; title: string };
  let courseTwo: { id: number; title: string };
  let draft: { id: number };
  const staff = { nurse: 0, porter: 0, outsider: 0, nurseB: 0 };

  beforeAll(async () => {
    t = await startTestApp();
    a = arrange(t);
    [managerA, managerB, learner, admin, author] = await Promise.all([t.signedIn('org_manager', { name: 'Manager A' }), t.signedIn('org_manager'), t.signedIn('learner'), t.signedIn('admin'), t.signedIn('author')]);
    orgAName = `St Elsewhere NHS Trust ${process.pid}-${Date.now()}`;
    orgA = (await createOrganisation(t, { name: orgAName })).id;
    orgB = (await createOrganisation(t)).id;
    await addMember(t, orgA, managerA.userId, { manager: true });
    await addMember(t, orgB, managerB.userId, { manager: true });
    staff.nurse = await a.person('Nina Nurse', 'Staff nurse');
    staff.porter = await a.person('Pete Porter', 'Porter');
    staff.outsider = await a.person('Olive Outsider', 'Staff nurse');
    staff.nurseB = await a.person('Nora Elsewhere', 'Midwife');
    await addMember(t, orgA, staff.nurse);
    await addMember(t, orgA, staff.porter);
    await addMember(t, orgB, staff.nurseB);
    courseOne = await course(t, { authorId: author.userId, title: 'Information governance' });
    courseTwo = await course(t, { authorId: author.userId, title: 'Fire safety' });
    draft = await course(t, { authorId: author.userId, title: 'Unpublished draft', status: 'draft' });
  });
  afterAll(() => t?.close());

  /** Posts a form with repeated fields (checkboxes) as a browser does. */
  async function post(visitor: Visitor, url: string, values: Record<string, string | string[]>) {
    const params = new URLSearchParams({ _csrf: visitor.csrf });
    for (const [key, value] of Object.entries(values)) for (const v of [value].flat()) params.append(key, v);
    return visitor.request('POST', url, { raw: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  it('shows an organisation without requirements, and a form offering published courses, its job roles and its active members', async () => {
    const list = await managerA.get(`/organisation/${orgA}/requirements`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('does not require any courses yet');
    const page = await managerA.get(`/organisation/${orgA}/requirements/new`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<option value="${courseOne.id}">Information governance</option>`);
    expect(page.body).not.toContain('Unpublished draft');
    expect(page.body).toContain('value="Porter"');
    expect(page.body).toContain('value="Staff nurse"');
    expect(page.body).not.toContain('value="Midwife"'); // another organisation's job role
    expect(page.body).toContain(`name="people" type="checkbox" value="${staff.nurse}"`);
    expect(page.body).not.toContain(`value="${staff.nurseB}"`);
    expect(page.body).toContain('name="_csrf"');
  });

  it('refuses unknown and foreign ids, and other bad input, with a message on the field', async () => {
    await managerA.get(`/organisation/${orgA}/requirements/new`);
    const url = `/organisation/${orgA}/requirements/new`;
    const cases: Array<[Record<string, string | string[]>, string, RegExp]> = [
      [{ audience: 'everyone', dueKind: 'days', dueDays: '30' }, 'courseId', /Choose the course staff must complete/],
      [{ courseId: '999999', audience: 'everyone', dueKind: 'days', dueDays: '30' }, 'courseId', /there is no published course with that id/],
      [{ courseId: String(draft.id), audience: 'everyone', dueKind: 'days', dueDays: '30' }, 'courseId', /there is no published course with that id/],
      [{ courseId: 'abc', audience: 'everyone', dueKind: 'days', dueDays: '30' }, 'courseId', /Choose a course from the list/],
      [{ courseId: String(courseOne.id), dueKind: 'days', dueDays: '30' }, 'audience', /Choose who must complete the course/],
      [{ courseId: String(courseOne.id), audience: 'people', people: String(staff.nurseB), dueKind: 'days', dueDays: '30' }, 'people', new RegExp(`person ${staff.nurseB} is not an active member of`)],
      [{ courseId: String(courseOne.id), audience: 'people', people: String(staff.outsider), dueKind: 'days', dueDays: '30' }, 'people', /is not an active member/],
      [{ courseId: String(courseOne.id), audience: 'people', people: '99999999', dueKind: 'days', dueDays: '30' }, 'people', /is not an active member/],
      [{ courseId: String(courseOne.id), audience: 'people', people: 'x1', dueKind: 'days', dueDays: '30' }, 'people', /is not a person/],
      [{ courseId: String(courseOne.id), audience: 'people', dueKind: 'days', dueDays: '30' }, 'people', /Choose at least one person/],
      [{ courseId: String(courseOne.id), audience: 'job_roles', jobRoles: 'Midwife', dueKind: 'days', dueDays: '30' }, 'jobRoles', /nobody in .* has the job role &quot;Midwife&quot;/],
      [{ courseId: String(courseOne.id), audience: 'job_roles', dueKind: 'days', dueDays: '30' }, 'jobRoles', /Choose at least one job role/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '731' }, 'dueDays', /from 0 to 730/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: 'soon' }, 'dueDays', /whole number/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'date', dueDate: '31/03/2027' }, 'dueDate', /YYYY-MM-DD/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'date', dueDate: '2027-02-30' }, 'dueDate', /Enter a real date/],
      [{ courseId: String(courseOne.id), audience: 'everyone' }, 'dueKind', /Choose when the course is due/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '30', renewalMonths: '0' }, 'renewalMonths', /from 1 to 120/],
      [{ courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '30', renewalMonths: '1.5' }, 'renewalMonths', /whole number of months/],
    ];
    for (const [values, name, message] of cases) {
      const answer = await post(managerA, url, values);
      expect({ values, status: answer.status }).toEqual({ values, status: 400 });
      expect({ values, message: field(answer.body, name) }).toEqual({ values, message: expect.stringMatching(message) });
      expect(answer.body).toContain(`href="#${name}"`); // the error summary links to the field
    }
    expect(await a.ds.getRepository(OrganisationRequirement).count({ where: { organisationId: orgA } })).toBe(0);
  });

  it('refuses a form without its CSRF token', async () => {
    const answer = await managerA.request('POST', `/organisation/${orgA}/requirements/new`, { form: { courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '30' } });
    expect(answer.status).toBe(403);
    expect(await a.ds.getRepository(OrganisationRequirement).count({ where: { organisationId: orgA } })).toBe(0);
  });

  let requirementId: number;

  it('adds a requirement of job roles, shows its audience, and refuses the same course twice', async () => {
    await managerA.get(`/organisation/${orgA}/requirements/new`);
    const added = await post(managerA, `/organisation/${orgA}/requirements/new`, { courseId: String(courseOne.id), audience: 'job_roles', jobRoles: ['staff nurse'], dueKind: 'days', dueDays: '60', renewalMonths: '12' });
    expect(added.status).toBe(303);
    const location = String(added.headers.location);
    expect(location).toMatch(new RegExp(`^/organisation/${orgA}/requirements/\\d+\\?notice=created$`));
    requirementId = Number(/requirements\/(\d+)/.exec(location)![1]);
    const saved = await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId });
    expect(saved).toMatchObject({ organisationId: orgA, courseId: courseOne.id, audience: 'job_roles', dueKind: 'days', dueDays: 60, dueDate: null, renewalMonths: 12, createdById: managerA.userId, archivedAt: null });

    const detail = await managerA.get(location);
    expect(detail.status).toBe(200);
    expect(detail.body).toContain('The course is now required');
    expect(detail.body).toContain('Job roles: Staff nurse'); // the members' spelling, whatever case was sent
    expect(detail.body).toContain(`data-user-id="${staff.nurse}" data-status="not_due"`);
    expect(detail.body).not.toContain(`data-user-id="${staff.porter}"`);
    expect(detail.body).toContain('Every 12 months');

    const again = await post(managerA, `/organisation/${orgA}/requirements/new`, { courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '30' });
    expect(again.status).toBe(400);
    expect(field(again.body, 'courseId')).toContain('is already required in');
    expect(await a.ds.getRepository(OrganisationRequirement).count({ where: { organisationId: orgA } })).toBe(1);
    const audit = await a.ds.getRepository(AuditEntry).find({ where: { action: 'requirement.created', targetId: orgA } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0].details)).toMatchObject({ requirementId, courseId: courseOne.id, audience: 'job_roles', jobRoles: ['Staff nurse'], renewalMonths: 12 });
  });

  it('lists requirements with their RAG status, compliance and a chart with the same figures as a table', async () => {
    const other = await a.requirement(orgA, courseTwo.id, { audience: 'everyone', dueKind: 'date', dueDays: null, dueDate: addDays(londonIsoDate(t.app.get(Clock).now()), -5) });
    await a.certificate(staff.porter, courseTwo.id, new Date(t.app.get(Clock).now().getTime() - 400 * DAY)); // earned anywhere, long ago: counts for ever
    const list = await managerA.get(`/organisation/${orgA}/requirements`);
    expect(list.status).toBe(200);
    // The chart: an accessible SVG with a title and description, one bar per requirement.
    expect(list.body).toMatch(/<svg[^>]*role="img"/);
    expect(list.body).toContain('Compliance per requirement');
    // Fire safety: everyone (manager, nurse, porter), porter complete, the others overdue (it was due five days ago).
    const row = (id: number) => new RegExp(`data-requirement-id="${id}">([\\s\\S]*?)</tr>`).exec(list.body)![1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(row(other)).toContain('Red');
    expect(row(other)).toContain('33%');
    expect(row(other)).toContain('1 of 3');
    expect(row(requirementId)).toContain('Amber');
    expect(row(requirementId)).toContain('0%');
    // The same figures in the chart's table.
    const table = /<table class="nhsuk-table">([\s\S]*?)<\/table>/.exec(list.body)![1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(table).toContain('Fire safety 33% Red: 2 overdue');
    expect(table).toContain('Information governance 0% Amber: 1 not yet complete, nobody overdue');
    expect(list.body).toContain(`href="/organisation/${orgA}/compliance.csv"`);
    expect(list.body).toContain(`href="/organisation/${orgA}/compliance.xlsx"`);

    const detail = await managerA.get(`/organisation/${orgA}/requirements/${other}`);
    const overdue = /id="overdue"[\s\S]*?<\/table>/.exec(detail.body)![0];
    expect(overdue).toContain(`data-user-id="${staff.nurse}"`);
    expect(overdue).toContain(`data-user-id="${managerA.userId}"`);
    expect(overdue).not.toContain(`data-user-id="${staff.porter}"`);
    expect(detail.body).toContain(`data-user-id="${staff.porter}" data-status="complete"`);
  });

  it("filters and pages a requirement's audience by status", async () => {
    const rid = (await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ organisationId: orgA, courseId: courseTwo.id })).id;
    const rows = (html: string) => [...html.matchAll(/<tr class="nhsuk-table__row" data-user-id="(\d+)" data-status="([a-z_]+)">/g)].map((m) => [Number(m[1]), m[2]]);
    const complete = await managerA.get(`/organisation/${orgA}/requirements/${rid}?status=complete`);
    expect(complete.status).toBe(200);
    expect(rows(complete.body)).toEqual([[staff.porter, 'complete']]);
    expect(complete.body).toContain('People it applies to who are complete');
    const overdue = await managerA.get(`/organisation/${orgA}/requirements/${rid}?status=overdue&page=99`);
    expect(rows(overdue.body).map(([, st]) => st)).toEqual(['overdue', 'overdue']);
    const everyone = await managerA.get(`/organisation/${orgA}/requirements/${rid}?status=nonsense&page=x`);
    expect(rows(everyone.body)).toHaveLength(3);
    expect(everyone.body).not.toContain('nhsuk-pagination__link');
  });

  it('saves changes, and saving the form unchanged (twice) changes nothing', async () => {
    const editUrl = `/organisation/${orgA}/requirements/${requirementId}/edit`;
    const page = await managerA.get(editUrl);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/id="jobRoles[^"]*" name="jobRoles" type="checkbox" value="Staff nurse" checked/);
    expect(page.body).toContain('value="job_roles" checked');
    const before = await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId });
    const auditBefore = await a.ds.getRepository(AuditEntry).count({ where: { targetId: orgA, action: 'requirement.updated' } });
    const same = { audience: 'job_roles', jobRoles: 'Staff nurse', dueKind: 'days', dueDays: '60', renewalMonths: '12' };
    for (let i = 0; i < 2; i++) {
      const answer = await post(managerA, editUrl, same);
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/organisation/${orgA}/requirements/${requirementId}?notice=unchanged`);
    }
    expect(await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).toEqual(before);
    expect(await a.ds.getRepository(AuditEntry).count({ where: { targetId: orgA, action: 'requirement.updated' } })).toBe(auditBefore);

    const changed = await post(managerA, editUrl, { audience: 'people', people: [String(staff.porter), String(staff.nurse)], dueKind: 'date', dueDate: '2099-03-31', renewalMonths: '' });
    expect(changed.headers.location).toBe(`/organisation/${orgA}/requirements/${requirementId}?notice=saved`);
    expect(await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).toMatchObject({ audience: 'people', dueKind: 'date', dueDays: null, dueDate: '2099-03-31', renewalMonths: null });
    const detail = await managerA.get(`/organisation/${orgA}/requirements/${requirementId}`);
    expect(detail.body).toContain('2 named people');
    expect(detail.body).toContain('By 31 March 2099');
    expect(detail.body).toContain(`data-user-id="${staff.porter}"`);
    // The people form again, unchanged, in the other order: nothing changes.
    const updatedAt = (await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).updatedAt;
    const again = await post(managerA, editUrl, { audience: 'people', people: [String(staff.nurse), String(staff.porter)], dueKind: 'date', dueDate: '2099-03-31', renewalMonths: '' });
    expect(again.headers.location).toContain('notice=unchanged');
    expect((await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).updatedAt).toEqual(updatedAt);
    // A named person who has since left stays named: the form shows them, and saving it unchanged changes nothing.
    await a.ds.getRepository(Membership).update({ organisationId: orgA, userId: staff.porter }, { status: 'left' });
    const withFormer = await managerA.get(editUrl);
    expect(withFormer.body).toMatch(new RegExp(`value="${staff.porter}" checked[^>]*>\\s*<label[^>]*>Pete Porter</label>\\s*<div[^>]*>[^<]*No longer an active member`));
    const kept = await post(managerA, editUrl, { audience: 'people', people: [String(staff.nurse), String(staff.porter)], dueKind: 'date', dueDate: '2099-03-31', renewalMonths: '' });
    expect(kept.headers.location).toContain('notice=unchanged');
    expect((await standings(t, orgA, requirementId)).has(staff.porter)).toBe(false);
    await a.ds.getRepository(Membership).update({ organisationId: orgA, userId: staff.porter }, { status: 'active' });
    // A foreign person in the edit form: a field message, nothing saved.
    const foreign = await post(managerA, editUrl, { audience: 'people', people: [String(staff.nurse), String(staff.nurseB)], dueKind: 'date', dueDate: '2099-03-31' });
    expect(foreign.status).toBe(400);
    expect(field(foreign.body, 'people')).toContain('is not an active member');
    expect(await a.ds.getRepository(AuditEntry).count({ where: { targetId: orgA, action: 'requirement.updated' } })).toBe(auditBefore + 1);
  });

  it('answers the API with the requirements, their compliance and the people in each', async () => {
    const api = await t.apiClient(managerA.email, managerA.password);
    const list = await api.get(`/api/v1/organisations/${orgA}/requirements`);
    expect(list.status).toBe(200);
    const items = list.json();
    expect(items.map((r: { courseTitle: string }) => r.courseTitle)).toEqual(['Fire safety', 'Information governance']);
    expect(items[0].compliance).toEqual({ audience: 3, complete: 1, due: 0, overdue: 2, notDue: 0, percent: 33, rag: 'red' });
    const detail = await api.get(`/api/v1/organisations/${orgA}/requirements/${requirementId}`);
    expect(detail.status).toBe(200);
    expect(detail.json()).toMatchObject({ id: requirementId, audience: 'people', people: [staff.nurse, staff.porter].sort((x, y) => x - y), dueKind: 'date', dueDate: '2099-03-31' });
    expect(detail.json().members.map((m: { userId: number }) => m.userId).sort()).toEqual([staff.nurse, staff.porter].sort());
    expect(detail.json().members[0]).toMatchObject({ status: 'not_due', dueOn: '2099-03-31', completedOn: null });
    expect((await api.get(`/api/v1/organisations/${orgA}/requirements/999999`)).status).toBe(404);

    // Both answers are what the OpenAPI document says: every field documented, every required one there, types right.
    const doc = (await t.visitor().get('/api/docs/openapi.json')).json();
    type Schema = { $ref?: string; type?: string; nullable?: boolean; enum?: unknown[]; allOf?: Schema[]; items?: Schema; properties?: Record<string, Schema>; required?: string[] };
    const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]) : schema);
    const faults = (given: Schema, value: unknown, at: string): string[] => {
      const schema = resolve(given);
      if (value === null) return schema.nullable ? [] : [`${at}: null`];
      if (schema.allOf) return schema.allOf.flatMap((part) => faults(part, value, at));
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in the enum`];
      if (schema.type === 'array') return Array.isArray(value) ? value.flatMap((v, i) => faults(schema.items!, v, `${at}[${i}]`)) : [`${at}: not an array`];
      if (schema.properties) {
        const record = value as Record<string, unknown>;
        return [
          ...(schema.required ?? []).filter((k) => !(k in record)).map((k) => `${at}.${k}: missing`),
          ...Object.entries(record).flatMap(([k, v]) => (schema.properties![k] ? faults(schema.properties![k], v, `${at}.${k}`) : [`${at}.${k}: not documented`])),
        ];
      }
      const expected = schema.type === 'integer' ? 'number' : schema.type;
      return expected && typeof value !== expected ? [`${at}: ${typeof value}, documented as ${schema.type}`] : [];
    };
    const schemaOf = (path: string) => doc.paths[path].get.responses['200'].content['application/json'].schema;
    expect([...faults(schemaOf('/api/v1/organisations/{id}/requirements'), items, 'list'), ...faults(schemaOf('/api/v1/organisations/{id}/requirements/{rid}'), detail.json(), 'detail')]).toEqual([]);
  });

  it('gives a manager of another organisation 404 on every page, form, export and API route, and learners 403', async () => {
    const bApi = await t.apiClient(managerB.email, managerB.password);
    const learnerApi = await t.apiClient(learner.email, learner.password);
    await managerB.get(`/organisation/${orgB}/requirements/new`); // a CSRF token of their own
    const pages = [
      `/organisation/${orgA}/requirements`,
      `/organisation/${orgA}/requirements/new`,
      `/organisation/${orgA}/requirements/${requirementId}`,
      `/organisation/${orgA}/requirements/${requirementId}/edit`,
      `/organisation/${orgA}/requirements/${requirementId}/archive`,
      `/organisation/${orgA}/compliance.csv`,
      `/organisation/${orgA}/compliance.xlsx`,
      // A's requirement through B's own organisation: not B's either.
      `/organisation/${orgB}/requirements/${requirementId}`,
      `/organisation/${orgB}/requirements/${requirementId}/edit`,
      `/organisation/${orgB}/requirements/${requirementId}/archive`,
      `/organisation/999999/requirements`,
      `/organisation/abc/requirements`,
    ];
    for (const url of pages) {
      expect({ url, status: (await managerB.get(url)).status }).toEqual({ url, status: 404 });
      expect({ url, status: (await learner.get(url)).status }).toEqual({ url, status: 403 });
    }
    for (const url of [`/organisation/${orgA}/requirements/new`, `/organisation/${orgA}/requirements/${requirementId}/edit`, `/organisation/${orgA}/requirements/${requirementId}/archive`, `/organisation/${orgB}/requirements/${requirementId}/archive`]) {
      const answer = await post(managerB, url, { courseId: String(courseTwo.id), audience: 'everyone', dueKind: 'days', dueDays: '1' });
      expect({ url, status: answer.status }).toEqual({ url, status: 404 });
    }
    for (const url of [`/api/v1/organisations/${orgA}/requirements`, `/api/v1/organisations/${orgA}/requirements/${requirementId}`, `/api/v1/organisations/${orgB}/requirements/${requirementId}`]) {
      const answer = await bApi.get(url);
      expect({ url, status: answer.status }).toEqual({ url, status: 404 });
      expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
      expect({ url, status: (await learnerApi.get(url)).status }).toEqual({ url, status: 403 });
    }
    expect((await t.visitor().get(`/api/v1/organisations/${orgA}/requirements`)).status).toBe(401);
    // Nothing of A's changed, and B exported nothing.
    expect(await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).toMatchObject({ archivedAt: null, audience: 'people' });
    expect(await a.ds.getRepository(AuditEntry).count({ where: { action: 'organisation.exported', actorId: managerB.userId } })).toBe(0);
    // An administrator may open any organisation's.
    expect((await admin.get(`/organisation/${orgA}/requirements/${requirementId}`)).status).toBe(200);
  });

  it('archives a requirement after confirmation: it counts no more', async () => {
    const confirm = await managerA.get(`/organisation/${orgA}/requirements/${requirementId}/archive`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Archive Information governance?');
    const answer = await post(managerA, `/organisation/${orgA}/requirements/${requirementId}/archive`, {});
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(`/organisation/${orgA}/requirements?notice=archived`);
    expect((await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ id: requirementId })).archivedAt).not.toBeNull();
    const list = await managerA.get(`/organisation/${orgA}/requirements`);
    expect(list.body).not.toContain(`data-requirement-id="${requirementId}"`);
    expect((await managerA.get(`/organisation/${orgA}/requirements/${requirementId}`)).status).toBe(404);
    expect((await post(managerA, `/organisation/${orgA}/requirements/${requirementId}/archive`, {})).status).toBe(404);
    // The course may be required again.
    const again = await post(managerA, `/organisation/${orgA}/requirements/new`, { courseId: String(courseOne.id), audience: 'everyone', dueKind: 'days', dueDays: '30' });
    expect(again.status).toBe(303);
    expect(await a.ds.getRepository(AuditEntry).count({ where: { targetId: orgA, action: 'requirement.archived' } })).toBe(1);
  });

  it('counts a certificate only while valid, and only people in the audience who are active members', async () => {
    const c = await course(t, { authorId: author.userId, title: 'Manual handling' });
    const rid = await a.requirement(orgA, c.id, { audience: 'job_roles', dueDays: 30 });
    await a.ds.query('INSERT INTO requirement_job_roles (requirement_id, job_role) VALUES (?, ?)', [rid, 'PORTER']);
    await a.certificate(staff.porter, c.id, t.app.get(Clock).now(), 'revoked');
    let people = await standings(t, orgA, rid);
    expect([...people.keys()]).toEqual([staff.porter]); // the job role matched whatever its case
    expect(people.get(staff.porter)!.status).toBe('due');
    await a.certificate(staff.porter, c.id, t.app.get(Clock).now());
    people = await standings(t, orgA, rid);
    expect(people.get(staff.porter)!.status).toBe('complete');
    await a.ds.getRepository(Membership).update({ organisationId: orgA, userId: staff.porter }, { status: 'left' });
    expect((await standings(t, orgA, rid)).size).toBe(0);
    await a.ds.getRepository(Membership).update({ organisationId: orgA, userId: staff.porter }, { status: 'active' });
  });

  it('counts a course completed through the academy: the certificate issued in the background makes it complete', async () => {
    const c = await fullCourse(t, author.userId, 'Safeguarding adults');
    const rid = await a.requirement(orgA, c.course.id, { audience: 'everyone', dueDays: 14 });
    const worker = await t.signedIn('learner', { name: 'Wendy Worker' });
    await addMember(t, orgA, worker.userId, { joinedAt: t.app.get(Clock).now() });
    expect((await standings(t, orgA, rid)).get(worker.userId)!.status).toBe('due');
    const api = await t.apiClient(worker.email, worker.password);
    expect((await api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).status).toBe(201);
    await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    const clock = t.app.get(Clock);
    for (let from = 0; from < 73; from += 10) {
      clock.travel(10_000);
      await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from, to: Math.min(from + 10, 73) } });
    }
    const [single, multiple] = c.questions;
    await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers: { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id, multiple.options[1].id] } } });
    expect((await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`)).json().courseComplete).toBe(true);
    await t.drainJobs();
    const standing = (await standings(t, orgA, rid)).get(worker.userId)!;
    expect(standing.status).toBe('complete');
    expect(standing.completedOn).toBe(londonIsoDate(clock.now()));
    const detail = await managerA.get(`/organisation/${orgA}/requirements/${rid}`);
    expect(detail.body).toContain(`data-user-id="${worker.userId}" data-status="complete"`);
  });

  it('gives the manager view per-person statuses and overdue counts per course', async () => {
    const service = t.app.get(ComplianceService);
    const statuses = await service.personStatuses(orgA, [staff.nurse, staff.porter, staff.nurseB]);
    expect(statuses.get(staff.nurseB)).toEqual({ status: null, overdue: 0, due: 0, met: 0, required: 0 });
    expect(statuses.get(staff.nurse)).toMatchObject({ status: 'overdue' });
    expect(statuses.get(staff.nurse)!.required).toBeGreaterThanOrEqual(2);
    const overdue = await service.overdueByCourse(orgA);
    expect(overdue.get(courseTwo.id)).toBe(3); // the nurse, the manager and Wendy, who joined since
  });

  it('refuses a change of course in the edit form', async () => {
    const rid = (await a.ds.getRepository(OrganisationRequirement).findOneByOrFail({ organisationId: orgA, courseId: courseTwo.id })).id;
    await managerA.get(`/organisation/${orgA}/requirements/${rid}/edit`);
    const answer = await post(managerA, `/organisation/${orgA}/requirements/${rid}/edit`, { courseId: String(draft.id), audience: 'everyone', dueKind: 'days', dueDays: '0' });
    expect(answer.status).toBe(400);
    expect(field(answer.body, 'courseId')).toContain('cannot be changed');
  });
});

describe('required learning across time: due dates, renewals and notices', () => {
  let t: TestApp;
  let a: ReturnType<typeof arrange>;
  let clock: Clock;
  let manager: Signed;
  let author: Signed;
  let org: number;
  let other: number;
  let courseId: number;
  let requirementId: number;
  const people = { newcomer: 0, mover: 0, lapsed: 0 };

  beforeAll(async () => {
    t = await startTestApp();
    a = arrange(t);
    clock = t.app.get(Clock);
    [manager, author] = await Promise.all([t.signedIn('org_manager'), t.signedIn('author')]);
    org = (await createOrganisation(t, { name: `Moving Trust ${process.pid}-${Date.now()}` })).id;
    other = (await createOrganisation(t, { name: `Old Employer ${process.pid}-${Date.now()}` })).id;
    await addMember(t, org, manager.userId, { manager: true, joinedAt: clock.now() });
    courseId = (await course(t, { authorId: author.userId, title: 'Cyber security awareness' })).id;
    people.newcomer = await a.person('Nadia Newcomer', 'Analyst');
    people.mover = await a.person('Mo Mover', 'Analyst');
    people.lapsed = await a.person('Lars Lapsed', 'Analyst');
    // The mover earned the certificate two years ago, while working for another organisation, then moved here.
    const twoYearsAgo = new Date(clock.now().getTime() - 730 * DAY);
    await addMember(t, other, people.mover, { joinedAt: twoYearsAgo });
    await a.certificate(people.mover, courseId, new Date(twoYearsAgo.getTime() + DAY));
    await a.ds.getRepository(Membership).update({ organisationId: other, userId: people.mover }, { status: 'left' });
    // The lapsed one earned theirs 11 months ago.
    await a.certificate(people.lapsed, courseId, new Date(clock.now().getTime() - 335 * DAY));
    // The newcomer and the mover join now; the lapsed one long ago. The requirement was set 100 days ago.
    await addMember(t, org, people.newcomer, { joinedAt: clock.now() });
    await addMember(t, org, people.mover, { joinedAt: clock.now() });
    await addMember(t, org, people.lapsed, { joinedAt: new Date(clock.now().getTime() - 400 * DAY) });
    requirementId = await a.requirement(org, courseId, { audience: 'job_roles', dueDays: 60, renewalMonths: null, createdAt: new Date(clock.now().getTime() - 100 * DAY) });
    await a.ds.query('INSERT INTO requirement_job_roles (requirement_id, job_role) VALUES (?, ?)', [requirementId, 'Analyst']);
  });
  afterAll(() => t?.close());

  const mailer = () => t.app.get(RequirementMailer);
  const noticeMail = async (userId: number) => {
    const email = (await a.ds.getRepository(User).findOneByOrFail({ id: userId })).email;
    return a.ds.getRepository(MailMessage).find({ where: { toAddress: email, template: Like('requirement-%') }, order: { id: 'ASC' } });
  };

  it('counts a certificate earned before joining, at another organisation, for ever without renewal', async () => {
    const s = await standings(t, org, requirementId);
    expect(s.get(people.mover)).toMatchObject({ status: 'complete', dueOn: null });
    expect(s.get(people.lapsed)).toMatchObject({ status: 'complete' });
    expect(s.get(people.newcomer)).toMatchObject({ status: 'not_due', dueOn: addDays(londonIsoDate(clock.now()), 60) });
  });

  it('with a renewal period, an older certificate no longer counts and the renewal falls due when it expires', async () => {
    await a.ds.getRepository(OrganisationRequirement).update({ id: requirementId }, { renewalMonths: 12 });
    const s = await standings(t, org, requirementId);
    // The mover's certificate ran out a year ago, before the requirement first fell due for them: the rule's date stands.
    expect(s.get(people.mover)).toMatchObject({ status: 'not_due', dueOn: addDays(londonIsoDate(clock.now()), 60), renewing: true });
    // The lapsed one (whose first due date passed long ago) has a certificate that runs out in about a month: complete
    // until then, due again that day.
    const expiry = addMonths(londonIsoDate(new Date(clock.now().getTime() - 335 * DAY)), 12);
    expect(s.get(people.lapsed)).toMatchObject({ status: 'complete', dueOn: expiry, renewing: true });
  });

  it('sends each notice once per stage and due date, idempotent on re-runs, as the clock passes the due dates', async () => {
    expect(await mailer().sendNotices()).toBe(0); // nobody within 14 days yet
    // 17 days on: the lapsed one's certificate expires within 14 days → a reminder to renew.
    clock.travel(17 * DAY);
    expect(await mailer().sendNotices()).toBe(1);
    expect(await mailer().sendNotices()).toBe(0);
    await t.drainJobs();
    let mail = await noticeMail(people.lapsed);
    expect(mail.map((m) => m.template)).toEqual(['requirement-due-soon']);
    expect(JSON.parse(mail[0].payload)).toMatchObject({ renewal: true, courseTitle: 'Cyber security awareness' });
    expect(mail[0].status).toBe('sent');
    const notice = await a.ds.getRepository(RequirementNotice).findOneByOrFail({ userId: people.lapsed });
    expect(mail[0].dedupeKey).toBe(`requirement-notice:${notice.id}`);

    // Past the expiry: overdue, once.
    clock.travel(20 * DAY);
    expect((await standings(t, org, requirementId)).get(people.lapsed)!.status).toBe('overdue');
    expect(await mailer().sendNotices()).toBe(1);
    expect(await mailer().sendNotices()).toBe(0);
    mail = await noticeMail(people.lapsed);
    expect(mail.map((m) => m.template)).toEqual(['requirement-due-soon', 'requirement-overdue']);

    // 60 days after joining, less 14: the newcomer and the mover hear it is due soon; then overdue after day 60.
    clock.travel(10 * DAY); // day 47
    expect(await mailer().sendNotices()).toBe(2);
    clock.travel(14 * DAY); // day 61
    const s = await standings(t, org, requirementId);
    expect(s.get(people.newcomer)!.status).toBe('overdue');
    expect(s.get(people.mover)!.status).toBe('overdue');
    // Through the jobs port, twice: each goes once.
    await t.app.get(JobsService).enqueue('organisations.requirements.notices', {});
    await t.drainJobs();
    await t.app.get(JobsService).enqueue('organisations.requirements.notices', {}, { jobId: `notices-again-${Date.now()}` });
    await t.drainJobs();
    for (const id of [people.newcomer, people.mover]) expect((await noticeMail(id)).map((m) => m.template)).toEqual(['requirement-due-soon', 'requirement-overdue']);
    expect(await a.ds.getRepository(RequirementNotice).count({ where: { requirementId } })).toBe(6);

    // The lapsed one renews: no more e-mails until the new certificate nears its expiry.
    await a.certificate(people.lapsed, courseId, clock.now());
    expect((await standings(t, org, requirementId)).get(people.lapsed)!.status).toBe('complete');
    expect(await mailer().sendNotices()).toBe(0);
  });

  it('shows the manager the overdue list after moving days ahead (signing in again)', async () => {
    await manager.signIn(manager.email, manager.password);
    const page = await manager.get(`/organisation/${org}/requirements/${requirementId}`);
    expect(page.status).toBe(200);
    const overdue = /id="overdue"[\s\S]*?<\/table>/.exec(page.body)![0];
    expect(overdue).toContain(`data-user-id="${people.newcomer}"`);
    expect(overdue).toContain(`data-user-id="${people.mover}"`);
    expect(overdue).not.toContain(`data-user-id="${people.lapsed}"`);
  });

  it('runs the notices of two simultaneous sweeps once each', async () => {
    const newcomers = await Promise.all(['Tara Twin', 'Tom Twin'].map((n) => a.person(n, 'Analyst')));
    for (const id of newcomers) await addMember(t, org, id, { joinedAt: new Date(clock.now().getTime() - 70 * DAY) });
    // A third whose account an administrator deactivated: counted as overdue, never e-mailed.
    const deactivated = await a.person('Dee Activated', 'Analyst');
    await addMember(t, org, deactivated, { joinedAt: new Date(clock.now().getTime() - 70 * DAY) });
    await a.ds.getRepository(User).update({ id: deactivated }, { deactivatedAt: clock.now() });
    await t.app.get(AccountsService).identitiesChanged([deactivated]);
    const sent = await Promise.all([mailer().sendNotices(), mailer().sendNotices(), mailer().sendNotices()]);
    expect(sent.reduce((x, y) => x + y, 0)).toBe(2);
    for (const id of newcomers) expect((await noticeMail(id)).map((m) => m.template)).toEqual(['requirement-overdue']);
    expect(await noticeMail(deactivated)).toEqual([]);
    expect((await standings(t, org, requirementId)).get(deactivated)!.status).toBe('overdue');
  });

  it('sends the weekly digest on Monday mornings, once per manager and ISO week', async () => {
    const managerEmail = manager.email;
    const digests = () => a.ds.getRepository(MailMessage).find({ where: { toAddress: managerEmail, template: 'manager-digest' }, order: { id: 'ASC' } });
    // To the next Monday, 06:30 London: too early.
    const today = londonFields(clock.now()).date;
    const weekday = new Date(`${today}T12:00:00Z`).getUTCDay() || 7;
    const monday = addDays(today, 8 - weekday);
    clock.travel(londonToUtc(monday, '06:30').getTime() - clock.now().getTime());
    expect(await mailer().sendDigests()).toBe(0);
    clock.travel(60 * 60_000); // 07:30
    expect(await mailer().sendDigests()).toBe(1);
    expect(await mailer().sendDigests()).toBe(0);
    clock.travel(3 * 3600_000);
    expect(await Promise.all([mailer().sendDigests(), mailer().sendDigests()])).toEqual([0, 0]);
    let sent = await digests();
    expect(sent).toHaveLength(1);
    expect(sent[0].dedupeKey).toBe(`manager-digest:${manager.userId}:${isoWeekOf(monday)}`);
    const data = JSON.parse(sent[0].payload);
    expect(data.organisations).toHaveLength(1);
    expect(data.organisations[0].requirements[0]).toMatchObject({ courseTitle: 'Cyber security awareness', status: 'Red' });
    expect(data.organisations[0].overdue.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['Mo Mover', 'Nadia Newcomer']));
    await t.drainJobs();
    expect((await digests())[0].status).toBe('sent');
    // Tuesday: nothing; the next Monday: the next week's.
    clock.travel(DAY);
    expect(await mailer().sendDigests()).toBe(0);
    clock.travel(6 * DAY);
    expect(await mailer().sendDigests()).toBe(1);
    sent = await digests();
    expect(sent.map((m) => m.dedupeKey)).toEqual([`manager-digest:${manager.userId}:${isoWeekOf(monday)}`, `manager-digest:${manager.userId}:${isoWeekOf(addDays(monday, 7))}`]);
    expect(await a.ds.getRepository(RequirementDigest).count({ where: { managerId: manager.userId } })).toBe(2);

    // Each digest says how to stop it (a signed link and RFC 8058 one-click headers); the link stops the next one.
    const stored = JSON.parse(sent[1].payload);
    expect(stored.__headers).toMatchObject({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    const link = new URL(stored.unsubscribeUrl);
    expect(link.pathname).toBe('/unsubscribe');
    const oneClick = await t.visitor().request('POST', `/api/v1/unsubscribe${link.search}`, { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(oneClick.status).toBeLessThan(300);
    clock.travel(7 * DAY);
    expect(await mailer().sendDigests()).toBe(0);
    expect(await digests()).toHaveLength(2);
  });
});

if (usingRealEngines()) {
  describe('required learning notices with two workers (MariaDB + Redis)', () => {
    let first: TestApp;
    let second: TestApp;

    beforeAll(async () => {
      first = await startTestApp({ JOBS_CONCURRENCY: '4' });
      // A second worker process on the same database and Redis queue.
      second = await startTestApp({ DATABASE_URL: first.engines.env.DATABASE_URL, REDIS_PREFIX: first.engines.env.REDIS_PREFIX, SESSION_SECRET: first.engines.env.SESSION_SECRET, MIGRATE_ON_BOOT: 'false', JOBS_CONCURRENCY: '4' });
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
    });

    it('sends each notice once although both workers sweep at the same moment, again and again', async () => {
      const a = arrange(first);
      const author = await first.signedIn('author');
      const org = (await createOrganisation(first)).id;
      const courseId = (await course(first, { authorId: author.userId, title: 'Data security' })).id;
      await a.requirement(org, courseId, { audience: 'everyone', dueDays: 30, createdAt: new Date(Date.now() - 40 * DAY) });
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) {
        const id = await a.person(`Worker ${String(i).padStart(2, '0')}`, 'Analyst');
        // Half overdue (joined 40 days ago), half due soon (joined 20 days ago).
        await addMember(first, org, id, { joinedAt: new Date(Date.now() - (i % 2 ? 40 : 20) * DAY) });
        ids.push(id);
      }
      const emails = (await a.ds.getRepository(User).findBy({ id: In(ids) })).map((u) => u.email);
      for (let round = 0; round < 3; round++) {
        await Promise.all([
          first.app.get(RequirementMailer).sendNotices(),
          second.app.get(RequirementMailer).sendNotices(),
          first.app.get(JobsService).enqueue('organisations.requirements.notices', {}, { jobId: `two-workers-${round}-a` }),
          second.app.get(JobsService).enqueue('organisations.requirements.notices', {}, { jobId: `two-workers-${round}-b` }),
        ]);
        await first.drainJobs();
        await second.drainJobs();
      }
      const mail = await a.ds.getRepository(MailMessage).find({ where: { toAddress: In(emails), template: Like('requirement-%') } });
      expect(mail).toHaveLength(40);
      expect(new Set(mail.map((m) => m.toAddress)).size).toBe(40);
      expect(mail.filter((m) => m.template === 'requirement-overdue')).toHaveLength(20);
      expect(mail.every((m) => m.status === 'sent')).toBe(true);
      expect(await a.ds.getRepository(RequirementNotice).count({ where: { userId: In(ids) } })).toBe(40);
      // Enrolments are untouched by any of it.
      expect(await a.ds.getRepository(Enrolment).count({ where: { userId: In(ids) } })).toBe(0);
      expect(first.app.get(LearningService)).toBeDefined();
    });
  });
}
