import { DataSource, In } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { londonFields, londonToUtc } from '../../src/common/london-time';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { OrganisationRequirement } from '../../src/organisations/entities/requirement.entity';
import { LearningService } from '../../src/learning/learning.service';
import { ProgressService } from '../../src/learning/progress.service';
import { WebinarAttendance } from '../../src/webinars/entities';
import { startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { selectsDuring } from '../support/queries';
import { course } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { saveWebinar } from '../support/webinars';

type Signed = Visitor & { userId: number; email: string; password: string };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthLabel = (moment: Date) => {
  const [y, m] = londonFields(moment).date.split('-').map(Number);
  return `${MONTHS[m - 1]} ${y}`;
};
/** The text of an element with this id (tags stripped, spaces collapsed). */
function textOf(html: string, pattern: RegExp): string {
  const match = pattern.exec(html);
  if (!match) throw new Error(`not found: ${pattern}`);
  return match[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}
/** The pagination's links, entities decoded. */
const pageLinks = (html: string) => [...html.matchAll(/class="nhsuk-pagination__link[^"]*" href="([^"]+)"/g)].map((m) => m[1].replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'));
const byId = (html: string, id: string) => textOf(html, new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|dd|td)>`));
/** The staff table's rows by user id: name cell text and figure cells. */
function staffRows(html: string): Map<number, { courses: string; certificates: string; cpd: string; text: string }> {
  const rows = new Map();
  for (const [, id, row] of html.matchAll(/<tr class="nhsuk-table__row" data-user-id="(\d+)">([\s\S]*?)<\/tr>/g)) {
    const cell = (name: string) => {
      const m = new RegExp(`data-figure="${name}"><span class="nhsuk-table-responsive__heading">[^<]*</span>([^<]*)</td>`).exec(row);
      return m ? m[1].trim() : '';
    };
    rows.set(Number(id), { courses: `${cell('enrolled')} enrolled, ${cell('inProgress')} in progress, ${cell('completed')} completed`, certificates: cell('certificates'), cpd: cell('cpd'), text: row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') });
  }
  return rows;
}

describe("the manager's view", () => {
  let t: TestApp;
  let ds: DataSource;
  let author: Signed;
  let managerA: Signed;
  let managerB: Signed;
  let learner: Signed;
  let admin: Signed;
  let orgA: number;
  let orgB: number;
  const staff: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin', number> = { alice: 0, bob: 0, carol: 0, dave: 0, erin: 0 };
  let courses: Awaited<ReturnType<typeof course>>[];
  let completedAt: Date[];
  let yearStart: Date;
  let lastYearCertificate: Certificate;

  async function person(name: string, jobRole: string): Promise<number> {
    const repo = ds.getRepository(User);
    const user = repo.create({ email: uniqueEmail(name.split(' ')[0].toLowerCase()), name, passwordHash: 'not a hash', role: 'learner', organisationId: null, jobRole, createdAt: new Date(), lastSignInAt: null, emailVerifiedAt: null, deactivatedAt: null });
    return Number((await repo.insert(user)).identifiers[0].id);
  }

  /** Enrols the person; `progress` sets the progress; `completed` completes it (its certificate issued by the course.completed job). */
  async function enrol(userId: number, courseId: number, state: { progress?: number; completedAt?: Date } = {}) {
    const { enrolment } = await t.app.get(LearningService).enrol(userId, courseId);
    if (state.completedAt) await ds.getRepository(Enrolment).update({ id: enrolment.id }, { status: 'completed', completedAt: state.completedAt, progressPercent: 100 });
    else if (state.progress) await ds.getRepository(Enrolment).update({ id: enrolment.id }, { progressPercent: state.progress });
    return enrolment;
  }

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    const now = t.app.get(Clock).now();
    yearStart = londonToUtc(`${londonFields(now).date.slice(0, 4)}-01-01`, '00:00');
    [author, managerA, managerB, learner, admin] = await Promise.all([t.signedIn('author'), t.signedIn('org_manager', { name: 'Manager of A' }), t.signedIn('org_manager'), t.signedIn('learner'), t.signedIn('admin')]);
    orgA = (await createOrganisation(t, { name: `Leeds Teaching Hospitals ${process.pid}-${Date.now()}` })).id;
    orgB = (await createOrganisation(t, { name: `Bradford District Care ${process.pid}-${Date.now()}` })).id;
    await addMember(t, orgA, managerA.userId, { manager: true });
    await addMember(t, orgB, managerB.userId, { manager: true });

    staff.alice = await person('Alice Adeyemi', 'Staff nurse');
    staff.bob = await person('Bob Brennan', 'Porter');
    staff.carol = await person('Carol Chen', 'Staff nurse');
    staff.dave = await person('Dave Dunmore', 'Pharmacist');
    staff.erin = await person('Erin Evans', 'Radiographer');
    await addMember(t, orgA, staff.alice);
    await addMember(t, orgA, staff.bob);
    await addMember(t, orgA, staff.carol);
    await addMember(t, orgA, staff.dave, { status: 'pending' });
    await addMember(t, orgB, staff.erin);

    courses = [];
    for (const title of ['Fire safety', 'Information governance', 'Manual handling', 'Safeguarding adults']) courses.push(await course(t, { title, authorId: author.userId, minutes: 90 }));
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    // Alice: one completed now, one completed in an earlier year (its certificate issued then too), one in progress, one not started.
    completedAt = [minutesAgo(5), new Date(Date.UTC(Number(londonFields(now).date.slice(0, 4)) - 1, 5, 15, 12))];
    await enrol(staff.alice, courses[0].id, { completedAt: completedAt[0] });
    await enrol(staff.alice, courses[1].id, { completedAt: completedAt[1] });
    await enrol(staff.alice, courses[2].id, { progress: 50 });
    await enrol(staff.alice, courses[3].id);
    // Bob: in progress on one, withdrawn from another.
    await enrol(staff.bob, courses[0].id, { progress: 30 });
    await enrol(staff.bob, courses[3].id);
    await t.app.get(LearningService).withdraw(staff.bob, courses[3].id);
    // Carol (who leaves) and Erin (of B) complete Fire safety too: neither counts for A.
    await enrol(staff.carol, courses[0].id, { completedAt: minutesAgo(6) });
    await enrol(staff.erin, courses[0].id, { completedAt: minutesAgo(7) });
    // Dave asks to join and has learning of his own that A may not see.
    await enrol(staff.dave, courses[2].id, { completedAt: minutesAgo(8) });

    await t.app.get(ProgressService).sweepCompletions();
    await t.drainJobs();
    const certificates = await ds.getRepository(Certificate).find({ where: { userId: In(Object.values(staff)) } });
    expect(certificates).toHaveLength(5);
    lastYearCertificate = certificates.find((c) => c.userId === staff.alice && c.subjectId === courses[1].id)!;
    await ds.getRepository(Certificate).update({ id: lastYearCertificate.id }, { issuedAt: completedAt[1], achievedAt: completedAt[1] });
    await addMember(t, orgA, staff.carol, { status: 'left' });

    // Webinars: Alice joined one live 10 minutes in (50 of its 60 minutes), watched 15 minutes of another's recording,
    // and only opened a third's page (a row with nothing watched, which is no attendance).
    const live = await saveWebinar(t, { title: 'Safety cases that get read', authorId: author.userId, startsAt: new Date(now.getTime() - 2 * 86_400_000), durationMinutes: 60 });
    const recorded = await saveWebinar(t, { title: 'Hazard logs', authorId: author.userId, startsAt: new Date(now.getTime() - 9 * 86_400_000), durationMinutes: 60, recordingKey: 'x.mp4', recordingSeconds: 3600 });
    const opened = await saveWebinar(t, { title: 'Opened only', authorId: author.userId, startsAt: new Date(now.getTime() - 5 * 86_400_000), durationMinutes: 60 });
    const row = (webinarId: number, fields: Partial<Pick<WebinarAttendance, 'firstJoinedAt' | 'joinCount' | 'coveredSeconds' | 'watchedIntervals' | 'creditedAt' | 'creditRecordedAt'>>) => ({
      webinarId, userId: staff.alice, firstJoinedAt: null, lastJoinedAt: null, joinCount: 0, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null,
      watchAllowanceMs: 0, heartbeatAt: null, creditedAt: null, creditRecordedAt: null, updatedAt: now, ...fields,
    });
    await ds.getRepository(WebinarAttendance).insert([
      row(live.id, { firstJoinedAt: new Date(live.startsAt.getTime() + 10 * 60_000), joinCount: 1, creditedAt: now, creditRecordedAt: now }),
      row(recorded.id, { coveredSeconds: 900, watchedIntervals: '[[0,900]]' }),
      row(opened.id, {}),
    ]);
  }, 120_000);
  afterAll(() => t?.close());

  describe('GET /organisation', () => {
    it('takes a manager of one organisation straight to it', async () => {
      const answer = await managerA.get('/organisation');
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(`/organisation/${orgA}`);
    });

    it('lets a manager of several choose', async () => {
      const both = await t.signedIn('org_manager');
      const [one, two] = [await createOrganisation(t), await createOrganisation(t)];
      await addMember(t, one.id, both.userId, { manager: true });
      await addMember(t, two.id, both.userId, { manager: true });
      const answer = await both.get('/organisation');
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`href="/organisation/${one.id}"`);
      expect(answer.body).toContain(`href="/organisation/${two.id}"`);
    });

    it('says so, with 404, to a manager of none; and points administrators to Admin', async () => {
      const none = await t.signedIn('org_manager');
      const answer = await none.get('/organisation');
      expect(answer.status).toBe(404);
      expect(answer.body).toContain('You do not manage an organisation');
      expect(answer.body).not.toContain('href="/admin"');
      const asAdmin = await admin.get('/organisation');
      expect(asAdmin.status).toBe(404);
      expect(asAdmin.body).toMatch(/<main[\s\S]*href="\/admin"/);
    });

    it('is in the header menu of managers and administrators only', async () => {
      const menu = (html: string) => /<a[^>]+href="\/organisation"[^>]*>/.test(html);
      expect(menu((await managerA.get('/my-learning')).body)).toBe(true);
      expect(menu((await admin.get('/my-learning')).body)).toBe(true);
      expect(menu((await learner.get('/my-learning')).body)).toBe(false);
      expect(menu((await author.get('/my-learning')).body)).toBe(false);
    });
  });

  describe('the dashboard', () => {
    it('gives the headline figures of active staff, the same in the page and the API', async () => {
      const page = await managerA.get(`/organisation/${orgA}`);
      expect(page.status).toBe(200);
      // Active: the manager, Alice and Bob. Enrolments not withdrawn: Alice's 4 and Bob's 1 (Carol left; Dave is pending).
      const thisYear = completedAt.filter((d) => d >= yearStart).length;
      expect(byId(page.body, 'figure-staff')).toBe('3');
      expect(byId(page.body, 'figure-requests')).toBe('1');
      expect(byId(page.body, 'figure-enrolments')).toBe('5');
      expect(byId(page.body, 'figure-completions')).toBe(String(thisYear));
      // CPD: the certificate issued this year (1.5 hours); the one issued last year does not count.
      expect(byId(page.body, 'figure-cpd')).toBe('1.5');
      expect(page.body).toContain(`href="/organisation/${orgA}/requests"`);
      expect(page.body).toContain(`href="/organisation/${orgA}/requirements"`);
      expect(page.body).toContain(`href="/organisation/${orgA}/staff"`);
      expect(page.body).toContain(`href="/organisation/${orgA}/courses"`);

      const api = await t.apiClient(managerA.email, managerA.password);
      const summary = await api.get(`/api/v1/organisations/${orgA}`);
      expect(summary.status).toBe(200);
      expect(summary.json()).toMatchObject({ id: orgA, figures: { activeStaff: 3, pendingRequests: 1, enrolments: 5, completionsThisYear: thisYear, cpdHoursThisYear: 1.5 } });
    });

    it('costs two SELECTs: the organisation with the manager\'s membership, and the four figures in one statement', async () => {
      await managerA.get(`/organisation/${orgA}`);
      const selects = await selectsDuring(ds, () => managerA.get(`/organisation/${orgA}`));
      // Not the session: on embedded defaults sessions are in the database, with Redis they are not.
      expect(selects.filter((sql) => !sql.includes('SessionRecord'))).toHaveLength(2);
    });

    it('charts completions per month for the last 12 months, with a title, a description and the same figures as a table', async () => {
      const page = (await managerA.get(`/organisation/${orgA}`)).body;
      const api = await t.apiClient(managerA.email, managerA.password);
      const months: Array<{ month: string; label: string; completions: number }> = (await api.get(`/api/v1/organisations/${orgA}`)).json().completionsPerMonth;
      expect(months).toHaveLength(12);
      const now = t.app.get(Clock).now();
      expect(months[11].label).toBe(monthLabel(now));
      // Alice's completions that fall in the window, each in its month; Carol's (left) and Erin's (B) are not counted.
      const expected = new Map<string, number>();
      for (const d of completedAt) expected.set(monthLabel(d), (expected.get(monthLabel(d)) ?? 0) + 1);
      for (const m of months) expect(m.completions).toBe(expected.get(m.label) ?? 0);

      const svg = /<svg [^>]*class="academy-chart"[\s\S]*?<\/svg>/.exec(page)![0];
      expect(svg).toMatch(/role="img"/);
      expect(svg).toContain('aria-labelledby="completions-chart-title completions-chart-desc"');
      expect(svg).toContain('<title id="completions-chart-title">Completions per month</title>');
      expect(svg).toMatch(/<desc id="completions-chart-desc">[^<]+<\/desc>/);
      expect(svg).not.toMatch(/style=/);
      const tableRows = [...page.matchAll(/<th scope="row" class="nhsuk-table__header">([^<]+)<\/th>\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">([^<]+)<\/td>/g)].map((m) => [m[1], Number(m[2])]);
      expect(tableRows).toEqual(months.map((m) => [m.label, m.completions]));
      // Each bar's own title gives its month and figure, as the table does.
      for (const m of months) expect(svg).toContain(`<title>${m.label}: ${m.completions}</title>`);
    });
  });

  describe('the staff list', () => {
    it("lists active members with each one's figures", async () => {
      const page = await managerA.get(`/organisation/${orgA}/staff`);
      expect(page.status).toBe(200);
      const rows = staffRows(page.body);
      expect([...rows.keys()].sort()).toEqual([staff.alice, staff.bob, managerA.userId].sort());
      expect(rows.get(staff.alice)).toMatchObject({ courses: '4 enrolled, 1 in progress, 2 completed', certificates: '2', cpd: '1.5' });
      expect(rows.get(staff.bob)).toMatchObject({ courses: '1 enrolled, 1 in progress, 0 completed', certificates: '0', cpd: '0' });
      expect(page.body).toContain(`href="/organisation/${orgA}/staff/${staff.alice}"`);
      // Sorted by name.
      const order = [...rows.keys()];
      expect(order.indexOf(staff.alice)).toBeLessThan(order.indexOf(staff.bob));

      const api = await t.apiClient(managerA.email, managerA.password);
      const list = (await api.get(`/api/v1/organisations/${orgA}/staff`)).json();
      expect(list).toMatchObject({ total: 3, page: 1, pages: 1, perPage: 25 });
      const alice = list.items.find((i: { userId: number }) => i.userId === staff.alice);
      expect(alice).toMatchObject({ name: 'Alice Adeyemi', jobRole: 'Staff nurse', status: 'active', learning: { enrolled: 4, inProgress: 1, completed: 2, certificates: 2, cpdHoursThisYear: 1.5 } });
      expect(alice.learning.lastActiveAt).not.toBeNull();
      expect(list.items.map((i: { name: string }) => i.name)).toEqual([...list.items.map((i: { name: string }) => i.name)].sort((a: string, b: string) => a.localeCompare(b)));
    });

    it('finds people by part of a name or e-mail address, and by job role (a select of the roles present)', async () => {
      const byName = staffRows((await managerA.get(`/organisation/${orgA}/staff?q=adeye`)).body);
      expect([...byName.keys()]).toEqual([staff.alice]);
      const bob = await ds.getRepository(User).findOneByOrFail({ id: staff.bob });
      const byEmail = staffRows((await managerA.get(`/organisation/${orgA}/staff?q=${encodeURIComponent(bob.email.slice(0, 12).toUpperCase())}`)).body);
      expect([...byEmail.keys()]).toEqual([staff.bob]);
      const page = (await managerA.get(`/organisation/${orgA}/staff?jobRole=${encodeURIComponent('Staff nurse')}`)).body;
      expect([...staffRows(page).keys()]).toEqual([staff.alice]);
      expect(page).toContain('<option value="Staff nurse" selected>Staff nurse</option>');
      expect(page).toContain('<option value="Porter">Porter</option>');
      // Job roles of B's staff only are not offered.
      expect(page).not.toContain('Radiographer');
      const none = await managerA.get(`/organisation/${orgA}/staff?q=${encodeURIComponent('100%_!')}`);
      expect(staffRows(none.body).size).toBe(0);
      expect(none.body).toContain('Nobody matches');
      const api = await t.apiClient(managerA.email, managerA.password);
      expect((await api.get(`/api/v1/organisations/${orgA}/staff?jobRole=Porter`)).json().items.map((i: { userId: number }) => i.userId)).toEqual([staff.bob]);
    });

    it('shows people who left, and people asking to join (without their learning), by status', async () => {
      const left = staffRows((await managerA.get(`/organisation/${orgA}/staff?status=left`)).body);
      expect([...left.keys()]).toEqual([staff.carol]);
      const pendingPage = (await managerA.get(`/organisation/${orgA}/staff?status=pending`)).body;
      const pending = staffRows(pendingPage);
      expect([...pending.keys()]).toEqual([staff.dave]);
      expect(pending.get(staff.dave)!.text).not.toMatch(/enrolled|completed/);
      expect(pendingPage).not.toContain(`/staff/${staff.dave}"`);
      const api = await t.apiClient(managerA.email, managerA.password);
      const asked = (await api.get(`/api/v1/organisations/${orgA}/staff?status=pending`)).json();
      expect(asked.items).toEqual([expect.objectContaining({ userId: staff.dave, status: 'pending', learning: null })]);
      expect((await api.get(`/api/v1/organisations/${orgA}/staff?status=nonsense`)).status).toBe(400);
      expect((await managerA.get(`/organisation/${orgA}/staff?status=nonsense`)).status).toBe(400);
    });

    it('drops a person who leaves from the active list (and the figures)', async () => {
      const extra = await person('Frank Fowler', 'Porter');
      await addMember(t, orgA, extra);
      await enrol(extra, courses[0].id, { progress: 10 });
      expect(staffRows((await managerA.get(`/organisation/${orgA}/staff`)).body).has(extra)).toBe(true);
      await addMember(t, orgA, extra, { status: 'left' });
      expect(staffRows((await managerA.get(`/organisation/${orgA}/staff`)).body).has(extra)).toBe(false);
      expect(staffRows((await managerA.get(`/organisation/${orgA}/staff?status=left`)).body).has(extra)).toBe(true);
      const api = await t.apiClient(managerA.email, managerA.password);
      expect((await api.get(`/api/v1/organisations/${orgA}`)).json().figures).toMatchObject({ activeStaff: 3, enrolments: 5 });
    });

    it('pages 25 at a time, by name, with NHS pagination that keeps the filters', async () => {
      const paged = await createOrganisation(t);
      const manager = await t.signedIn('org_manager');
      await addMember(t, paged.id, manager.userId, { manager: true });
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const id = await person(`Paged Person ${String(i).padStart(2, '0')}`, i % 2 ? 'Odd' : 'Even');
        await addMember(t, paged.id, id);
        ids.push(id);
      }
      const first = await manager.get(`/organisation/${paged.id}/staff?q=paged`);
      expect([...staffRows(first.body).keys()]).toEqual(ids.slice(0, 25));
      expect(first.body).toContain('30 people matching “paged” (page 1 of 2)');
      expect(pageLinks(first.body)).toEqual([`/organisation/${paged.id}/staff?q=paged&page=2`]);
      const second = await manager.get(`/organisation/${paged.id}/staff?q=paged&page=2`);
      expect([...staffRows(second.body).keys()]).toEqual(ids.slice(25));
      expect(pageLinks(second.body)).toEqual([`/organisation/${paged.id}/staff?q=paged&page=1`]);
      const odd = await manager.get(`/organisation/${paged.id}/staff?jobRole=Odd&page=1`);
      expect([...staffRows(odd.body).keys()]).toEqual(ids.filter((_, i) => i % 2));
      // A page beyond the last shows the last.
      expect([...staffRows((await manager.get(`/organisation/${paged.id}/staff?q=paged&page=9`)).body).keys()]).toEqual(ids.slice(25));
      const api = await t.apiClient(manager.email, manager.password);
      const two = (await api.get(`/api/v1/organisations/${paged.id}/staff?q=paged&page=2`)).json();
      expect(two).toMatchObject({ total: 30, page: 2, pages: 2, perPage: 25 });
      expect(two.items.map((i: { userId: number }) => i.userId)).toEqual(ids.slice(25));
    });
  });

  describe("one person's learning", () => {
    it('shows each course with progress, status, completion and certificate, CPD this year and webinar attendance', async () => {
      const page = await managerA.get(`/organisation/${orgA}/staff/${staff.alice}`);
      expect(page.status).toBe(200);
      expect(textOf(page.body, /data-figure="courses">([^<]*)</)).toBe('4 enrolled, 1 in progress, 2 completed');
      expect(textOf(page.body, /data-figure="certificates">([^<]*)</)).toBe('2');
      expect(textOf(page.body, /data-figure="cpd">([^<]*)</)).toBe('1.5 hours');
      expect(textOf(page.body, /data-figure="webinars">([^<]*)</)).toBe('2 (65 minutes)');
      const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: staff.alice, subjectId: courses[0].id });
      expect(page.body).toContain(`href="/certificates/${certificate.code}.pdf"`);
      expect(page.body).toMatch(/<progress class="academy-progress__bar" max="100" value="50"/);
      expect(page.body).toContain('Safety cases that get read');
      expect(page.body).toContain('Hazard logs');
      expect(page.body).not.toContain('Opened only');
      // The certificate link works for the manager (the certificates module asks the organisations module).
      const pdf = await managerA.get(`/certificates/${certificate.code}.pdf`);
      expect(pdf.status).toBe(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');

      const api = await t.apiClient(managerA.email, managerA.password);
      const json = (await api.get(`/api/v1/organisations/${orgA}/staff/${staff.alice}`)).json();
      expect(json).toMatchObject({ userId: staff.alice, name: 'Alice Adeyemi', status: 'active', figures: { enrolled: 4, inProgress: 1, completed: 2, certificates: 2, cpdHoursThisYear: 1.5 } });
      expect(json.webinars).toMatchObject({ attended: 2, minutes: 65 });
      expect(json.webinars.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ title: 'Safety cases that get read', attendedLive: true, liveMinutes: 50, recordingMinutes: 0, minutes: 50, credited: true }),
          expect.objectContaining({ title: 'Hazard logs', attendedLive: false, liveMinutes: 0, recordingMinutes: 15, minutes: 15, credited: false }),
        ]),
      );
      const byCourse = new Map(json.courses.map((c: { courseId: number }) => [c.courseId, c]));
      expect(byCourse.get(courses[0].id)).toMatchObject({ status: 'completed', progressPercent: 100, certificate: { code: certificate.code, cpdHours: 1.5 } });
      expect((byCourse.get(courses[0].id) as { certificate: { downloadUrl: string } }).certificate.downloadUrl).toMatch(new RegExp(`/certificates/${certificate.code}\\.pdf$`));
      expect(byCourse.get(courses[1].id)).toMatchObject({ status: 'completed', certificate: { code: lastYearCertificate.code } });
      expect(byCourse.get(courses[2].id)).toMatchObject({ status: 'active', progressPercent: 50, certificate: null, completedAt: null });
      expect(byCourse.get(courses[3].id)).toMatchObject({ status: 'active', progressPercent: 0 });
    });

    it('never shows the learning of a person who left, nor of one who has not joined (404, page and API)', async () => {
      // Leaving ends what the organisation's managers may see: the staff list still names her, with no figures.
      expect((await managerA.get(`/organisation/${orgA}/staff/${staff.carol}`)).status).toBe(404);
      expect((await managerA.get(`/organisation/${orgA}/staff/${staff.dave}`)).status).toBe(404);
      const api = await t.apiClient(managerA.email, managerA.password);
      expect((await api.get(`/api/v1/organisations/${orgA}/staff/${staff.dave}`)).status).toBe(404);
      expect((await api.get(`/api/v1/organisations/${orgA}/staff/${staff.carol}`)).status).toBe(404);
      const leftList = (await api.get(`/api/v1/organisations/${orgA}/staff?status=left`)).json();
      const leavers: Array<{ userId: number; learning: unknown }> = leftList.items;
      expect(leavers.map((p) => p.userId)).toContain(staff.carol);
      expect(leavers.every((p) => p.learning === null)).toBe(true);
      const leftPage = await managerA.get(`/organisation/${orgA}/staff?status=left`);
      expect(leftPage.body).toContain('Carol Chen');
      expect(leftPage.body).not.toContain(`/organisation/${orgA}/staff/${staff.carol}"`);
      const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: staff.carol });
      expect((await managerA.get(`/certificates/${certificate.code}.pdf`)).status).toBe(404);
      expect((await managerA.get(`/organisation/${orgA}/staff/999999999`)).status).toBe(404);
      expect((await managerA.get(`/organisation/${orgA}/staff/abc`)).status).toBe(404);
    });
  });

  describe('the courses report', () => {
    it('gives each course active staff are enrolled on or the organisation requires: enrolled, in progress, completed and overdue', async () => {
      // Required of everyone by a date 10 days ago: Safeguarding (nobody holds its certificate) and Basic life support
      // (nobody is enrolled); Fire safety too, which Alice has completed.
      const lifeSupport = await course(t, { title: 'Basic life support', authorId: author.userId });
      const dueDate = londonFields(new Date(t.app.get(Clock).now().getTime() - 10 * 86_400_000)).date;
      const now = new Date();
      for (const courseId of [courses[3].id, lifeSupport.id, courses[0].id]) {
        await ds.getRepository(OrganisationRequirement).insert({ organisationId: orgA, courseId, audience: 'everyone', dueKind: 'date', dueDays: null, dueDate, renewalMonths: null, createdById: managerA.userId, createdAt: now, updatedAt: now, archivedAt: null });
      }
      const page = await managerA.get(`/organisation/${orgA}/courses`);
      expect(page.status).toBe(200);
      const api = await t.apiClient(managerA.email, managerA.password);
      const list = (await api.get(`/api/v1/organisations/${orgA}/courses`)).json();
      // Active: the manager, Alice and Bob. Fire safety: Alice completed, Bob in progress (Carol and Frank left, Erin is
      // B's); the manager and Bob are overdue. Safeguarding: Alice enrolled (not started), Bob withdrew; all three overdue.
      expect(list).toEqual([
        { courseId: lifeSupport.id, title: 'Basic life support', slug: lifeSupport.slug, enrolled: 0, inProgress: 0, completed: 0, required: true, overdue: 3 },
        { courseId: courses[0].id, title: 'Fire safety', slug: courses[0].slug, enrolled: 2, inProgress: 1, completed: 1, required: true, overdue: 2 },
        { courseId: courses[1].id, title: 'Information governance', slug: courses[1].slug, enrolled: 1, inProgress: 0, completed: 1, required: false, overdue: 0 },
        { courseId: courses[2].id, title: 'Manual handling', slug: courses[2].slug, enrolled: 1, inProgress: 1, completed: 0, required: false, overdue: 0 },
        { courseId: courses[3].id, title: 'Safeguarding adults', slug: courses[3].slug, enrolled: 1, inProgress: 0, completed: 0, required: true, overdue: 3 },
      ]);
      for (const c of list) {
        const row = new RegExp(`data-course-id="${c.courseId}">([\\s\\S]*?)</tr>`).exec(page.body)![1];
        const cell = (name: string) => new RegExp(`data-figure="${name}"><span[^>]*>[^<]*</span>([^<]*)<`).exec(row)![1].trim();
        expect([cell('enrolled'), cell('inProgress'), cell('completed'), cell('notStarted')].map(Number)).toEqual([c.enrolled, c.inProgress, c.completed, c.enrolled - c.inProgress - c.completed]);
        expect(cell('overdue')).toBe(c.required ? String(c.overdue) : '–');
        expect(row.includes('>Required</strong>')).toBe(c.required);
      }
      // B requires nothing and has its own figures.
      const apiB = await t.apiClient(managerB.email, managerB.password);
      expect((await apiB.get(`/api/v1/organisations/${orgB}/courses`)).json()).toEqual([
        { courseId: courses[0].id, title: 'Fire safety', slug: courses[0].slug, enrolled: 1, inProgress: 0, completed: 1, required: false, overdue: 0 },
      ]);
    });
  });

  describe('who may see what', () => {
    const pages = (org: number, userId: number) => [`/organisation/${org}`, `/organisation/${org}/staff`, `/organisation/${org}/staff/${userId}`, `/organisation/${org}/courses`];
    const apis = (org: number, userId: number) => [`/api/v1/organisations/${org}`, `/api/v1/organisations/${org}/staff`, `/api/v1/organisations/${org}/staff/${userId}`, `/api/v1/organisations/${org}/courses`];

    it("answers 404 to a manager for another organisation's pages and API, and for its people through their own organisation's address", async () => {
      const api = await t.apiClient(managerA.email, managerA.password);
      for (const url of pages(orgB, staff.erin)) expect([url, (await managerA.get(url)).status]).toEqual([url, 404]);
      for (const url of apis(orgB, staff.erin)) {
        const answer = await api.get(url);
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(answer.json().code).toBe('not_found');
      }
      expect((await managerA.get(`/organisation/${orgA}/staff/${staff.erin}`)).status).toBe(404);
      expect((await api.get(`/api/v1/organisations/${orgA}/staff/${staff.erin}`)).status).toBe(404);
      // B's manager sees B, and none of A.
      expect((await managerB.get(`/organisation/${orgB}/staff/${staff.erin}`)).status).toBe(200);
      expect((await managerB.get(`/organisation/${orgA}/staff/${staff.alice}`)).status).toBe(404);
      // Unknown and malformed ids too.
      for (const url of ['/organisation/999999999', '/organisation/abc/staff', '/api/v1/organisations/0', '/api/v1/organisations/1e3/staff']) {
        const status = url.startsWith('/api') ? (await api.get(url)).status : (await managerA.get(url)).status;
        expect([url, status]).toEqual([url, 404]);
      }
    });

    it('answers 404 to a manager who is no longer one', async () => {
      const former = await t.signedIn('org_manager');
      await addMember(t, orgA, former.userId, { manager: true });
      expect((await former.get(`/organisation/${orgA}`)).status).toBe(200);
      await addMember(t, orgA, former.userId, { manager: false });
      expect((await former.get(`/organisation/${orgA}`)).status).toBe(404);
    });

    it('refuses learners and authors (403), even members of the organisation', async () => {
      await addMember(t, orgA, learner.userId);
      const learnerApi = await t.apiClient(learner.email, learner.password);
      const authorApi = await t.apiClient(author.email, author.password);
      for (const url of ['/organisation', ...pages(orgA, staff.alice)]) {
        expect([url, (await learner.get(url)).status]).toEqual([url, 403]);
        expect([url, (await author.get(url)).status]).toEqual([url, 403]);
      }
      for (const url of apis(orgA, staff.alice)) {
        expect([url, (await learnerApi.get(url)).status]).toEqual([url, 403]);
        expect([url, (await authorApi.get(url)).status]).toEqual([url, 403]);
      }
      for (const url of [...pages(orgA, staff.alice), ...apis(orgA, staff.alice)]) {
        const anonymous = await t.visitor().get(url);
        expect([url, anonymous.status]).toEqual([url, url.startsWith('/api') ? 401 : 303]);
      }
    });

    it('lets administrators see every organisation', async () => {
      const api = await t.apiClient(admin.email, admin.password);
      for (const url of [...pages(orgA, staff.alice), ...pages(orgB, staff.erin)]) expect([url, (await admin.get(url)).status]).toEqual([url, 200]);
      for (const url of [...apis(orgA, staff.alice), ...apis(orgB, staff.erin)]) expect([url, (await api.get(url)).status]).toEqual([url, 200]);
      expect((await admin.get(`/organisation/${orgA}/staff/${staff.erin}`)).status).toBe(404);
    });
  });
});
