import { DataSource } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import type { Role } from '../../src/accounts/roles';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { lastMonths } from '../../src/admin/site-figures.reader';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LessonProgress } from '../../src/learning/entities/lesson-progress.entity';
import { WebinarAttendance } from '../../src/webinars/entities';
import { course } from '../support/courses';
import { saveWebinar } from '../support/webinars';
import { startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';

type Signed = Visitor & { email: string; password: string; userId: number };

/** The page with the entities Handlebars writes read back. */
const decoded = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&').replace(/&#x27;/g, "'").replace(/&quot;/g, '"');

/** RFC 4180 rows of a CSV body (quoted cells with commas, quotes and line breaks). */
function csvRows(body: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const text = body.replace(/^\uFEFF/, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('the audit log (/admin/audit) and site figures (/admin/figures)', () => {
  let t: TestApp;
  let admin: Signed;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.signedIn('admin', { name: 'Ada Admin' });
    ds = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  async function entry(values: Partial<AuditEntry> & { action: string; createdAt: Date }) {
    await ds.getRepository(AuditEntry).insert({ actorId: null, actorName: 'Peer Academy', targetType: 'user', targetId: null, targetLabel: 'Someone', details: '{}', ...values });
  }

  describe('who may', () => {
    it('refuses learners, authors and organisation managers the log, its export, the figures and the admin home (403)', async () => {
      const before = await ds.getRepository(AuditEntry).count();
      for (const role of ['learner', 'author', 'org_manager'] as Role[]) {
        const visitor = await t.signedIn(role);
        for (const url of ['/admin', '/admin/audit', '/admin/audit?action=user.role_changed', '/admin/audit.csv', '/admin/audit.csv?actor=1', '/admin/figures']) {
          expect([url, role, (await visitor.get(url)).status]).toEqual([url, role, 403]);
        }
      }
      for (const url of ['/admin/audit', '/admin/audit.csv', '/admin/figures']) expect((await t.visitor().get(url)).headers.location).toMatch(/^\/sign-in/);
      expect(await ds.getRepository(AuditEntry).count()).toBe(before);
    });

    it('links every administration page from /admin', async () => {
      const home = await admin.get('/admin');
      for (const href of ['/admin/users', '/admin/organisations', '/admin/audit', '/admin/figures', '/admin/certificates', '/admin/outbox']) expect(home.body).toContain(`href="${href}"`);
    });
  });

  describe('the log', () => {
    it('shows privileged actions as they happen, newest first, with who did what to whom', async () => {
      const person = await t.signedIn('learner', { name: 'Mary Somerville' });
      await admin.get(`/admin/users/${person.userId}`);
      await admin.submit(`/admin/users/${person.userId}/role`, { role: 'author' });
      await admin.submit(`/admin/users/${person.userId}/role`, { role: 'org_manager' });
      const page = await admin.get(`/admin/audit?target=user:${person.userId}`);
      expect(page.status).toBe(200);
      const body = decoded(page.body);
      expect(body).toContain('Role changed');
      expect(body).toContain(`href="/admin/users/${admin.userId}">Ada Admin</a>`);
      expect(body).toContain(`Mary Somerville (${person.email})`);
      const first = body.indexOf('role: learner → author');
      const second = body.indexOf('role: author → org_manager');
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(0);
      expect(second).toBeLessThan(first);
    });

    it('records certificate revocations with the reason', async () => {
      const holder = await t.signedIn('learner', { name: 'Caroline Herschel' });
      const author = await t.signedIn('author');
      const subject = await course(t, { title: 'Comet hunting', authorId: author.userId });
      const now = new Date();
      const inserted = await ds.getRepository(Certificate).insert({
        code: 'RVKE-AUDT-TEST',
        userId: holder.userId,
        subjectType: 'course',
        subjectId: subject.id,
        revision: 1,
        subjectTitle: 'Comet hunting',
        holderName: 'Caroline Herschel',
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
      const id = Number(inserted.identifiers[0].id);
      await admin.get('/admin/certificates');
      const answer = await admin.submit('/admin/certificates/RVKE-AUDT-TEST/revoke', { reason: 'Issued in error' });
      expect(answer.status).toBe(303);
      const rows: Array<{ action: string; actor_id: number | string; details: string; target_label: string }> = await ds.query(
        `SELECT action, actor_id, details, target_label FROM audit_log WHERE target_type = 'certificate' AND target_id = ?`,
        [id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'certificate.revoked', target_label: 'RVKE-AUDT-TEST: Comet hunting (Caroline Herschel)' });
      expect(Number(rows[0].actor_id)).toBe(admin.userId);
      expect(JSON.parse(rows[0].details)).toMatchObject({ code: 'RVKE-AUDT-TEST', reason: 'Issued in error', holderId: holder.userId });
      expect((await admin.submit('/admin/certificates/RVKE-AUDT-TEST/revoke', { reason: 'Again please' })).status).toBe(409);
      expect((await ds.query(`SELECT id FROM audit_log WHERE target_type = 'certificate' AND target_id = ?`, [id])).length).toBe(1);
      expect(decoded((await admin.get('/admin/audit?action=certificate.revoked')).body)).toContain('reason: Issued in error');
    });

    it('filters by action, actor (id or name), target (type:id or label) and days, and pages through them', async () => {
      const stem = `Filter${process.pid}`;
      const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
      await entry({ action: 'organisation.created', actorId: 777001, actorName: `${stem} Alice`, targetType: 'organisation', targetId: 9101, targetLabel: `${stem} Trust`, createdAt: day('2025-01-10') });
      await entry({ action: 'organisation.updated', actorId: 777002, actorName: `${stem} Bob`, targetType: 'organisation', targetId: 9101, targetLabel: `${stem} Trust`, createdAt: day('2025-01-20') });
      await entry({ action: 'user.deactivated', actorId: 777001, actorName: `${stem} Alice`, targetType: 'user', targetId: 9102, targetLabel: `${stem} Person`, createdAt: day('2025-02-05') });
      const shown = async (query: string) => [...decoded((await admin.get(`/admin/audit?${query}`)).body).matchAll(new RegExp(`${stem} (Trust|Person)</a>|(Organisation created|Organisation edited|Account deactivated): `, 'g'))].map((m) => m[0]);
      const count = async (query: string) => (decoded((await admin.get(`/admin/audit?${query}`)).body).match(new RegExp(`<time datetime="2025-0`, 'g')) ?? []).length;
      expect(await count(`actor=${stem}`)).toBe(3);
      expect(await count(`actor=${stem.toLowerCase()}%20alice`)).toBe(2);
      expect(await count('actor=777002')).toBe(1);
      expect(await count(`target=organisation:9101`)).toBe(2);
      expect(await count(`target=${stem}%20person`)).toBe(1);
      expect(await count(`actor=${stem}&action=organisation.updated`)).toBe(1);
      expect(await count(`actor=${stem}&from=2025-01-20&to=2025-02-04`)).toBe(1);
      expect(await count(`actor=${stem}&from=2025-01-10&to=2025-01-10`)).toBe(1);
      expect(await count(`actor=${stem}&to=2025-01-31`)).toBe(2);
      expect((await shown(`actor=${stem}`)).filter((s) => s.endsWith(': '))).toEqual(['Account deactivated: ', 'Organisation edited: ', 'Organisation created: ']);

      for (const [query, message] of [
        ['from=2025-02-30', 'Enter the first day as a date like 2026-03-01'],
        ['to=yesterday', 'Enter the last day as a date like 2026-03-01'],
        ['from=2025-03-01&to=2025-02-01', 'The last day must be the same as or after the first day'],
        ['action=DROP%20TABLE', 'Choose an action from the list'],
      ]) {
        const answer = await admin.get(`/admin/audit?${query}`);
        expect([query, answer.status]).toEqual([query, 400]);
        expect(decoded(answer.body)).toContain(message);
      }

      const many = `Pages${process.pid}`;
      for (let i = 0; i < 55; i++) await entry({ action: 'user.role_changed', actorName: many, targetLabel: `${many} ${String(i).padStart(2, '0')}`, createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)) });
      const first = decoded((await admin.get(`/admin/audit?actor=${many}`)).body);
      expect(first).toContain(`${many} 54`);
      expect(first).toContain(`${many} 05`);
      expect(first).not.toContain(`${many} 04`);
      expect(first).toContain(`href="/admin/audit?actor=${many}&page=2"`);
      expect(first).toContain(`href="/admin/audit.csv?actor=${many}"`);
      const second = decoded((await admin.get(`/admin/audit?actor=${many}&page=2`)).body);
      expect(second).toContain(`${many} 04`);
      expect(second).toContain(`${many} 00`);
      expect(second).not.toContain(`${many} 05`);
    });
  });

  describe('the CSV export', () => {
    it('streams the filtered entries newest first, with formulas defused, and records the export itself', async () => {
      const stem = `Export${process.pid}`;
      const total = 1203;
      const rows = Array.from({ length: total }, (_, i) => ({
        actorId: null,
        actorName: stem,
        action: 'organisation.updated',
        targetType: 'organisation',
        targetId: 5000 + i,
        targetLabel: i === 0 ? `=HYPERLINK("http://evil.example"), "${stem}"` : `${stem} ${i}`,
        details: JSON.stringify({ name: { from: 'A, B', to: 'C "D"' } }),
        createdAt: new Date(Date.UTC(2023, 0, 1) + Math.floor(i / 2) * 60_000),
      }));
      for (let i = 0; i < rows.length; i += 300) await ds.getRepository(AuditEntry).insert(rows.slice(i, i + 300));
      const answer = await admin.get(`/admin/audit.csv?actor=${stem}&action=organisation.updated`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="audit-log-\d{4}-\d{2}-\d{2}\.csv"$/);
      expect(answer.body.startsWith('\uFEFF')).toBe(true);
      const parsed = csvRows(answer.body);
      expect(parsed[0]).toEqual(['When (UTC)', 'When (London)', 'Actor id', 'Actor', 'Action', 'Action code', 'Target type', 'Target id', 'Target', 'Details']);
      const data = parsed.slice(1);
      expect(data).toHaveLength(total);
      const ids = data.map((r) => Number(r[7]));
      expect(new Set(ids).size).toBe(total);
      // Newest first; of two at the same moment, the later one first.
      expect(ids[0]).toBe(5000 + total - 1);
      expect(ids[total - 1]).toBe(5000);
      for (let i = 1; i < data.length; i++) expect(data[i - 1][0] >= data[i][0]).toBe(true);
      expect(data[total - 1][8]).toBe(`'=HYPERLINK("http://evil.example"), "${stem}"`);
      expect(JSON.parse(data[0][9])).toEqual({ name: { from: 'A, B', to: 'C "D"' } });
      expect(data[0][4]).toBe('Organisation edited');

      const exported: Array<{ actor_id: number | string; details: string }> = await ds.query(`SELECT actor_id, details FROM audit_log WHERE action = 'audit.exported' ORDER BY id DESC`);
      expect(Number(exported[0].actor_id)).toBe(admin.userId);
      expect(JSON.parse(exported[0].details)).toEqual({ filters: { action: 'organisation.updated', actor: stem } });
      const log = decoded((await admin.get('/admin/audit?action=audit.exported')).body);
      expect(log).toContain('Audit log exported');
      const bad = await admin.get('/admin/audit.csv?from=never');
      expect(bad.status).toBe(400);
    });
  });

  describe('site figures', () => {
    /** The value a figure's table gives for a month, read from its section of the page. */
    function figure(body: string, key: string, month: string): number {
      const section = body.slice(body.indexOf(`<section id="${key}"`), body.indexOf('</section>', body.indexOf(`<section id="${key}"`)));
      const match = new RegExp(`<th scope="row" class="nhsuk-table__header">${month}</th>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">([\\d,]+)</td>`).exec(section);
      if (!match) throw new Error(`no ${month} row in ${key}`);
      return Number(match[1].replace(/,/g, ''));
    }

    it('counts active learners, enrolments, completions, certificates and webinar attendance per month, and the most taken courses', async () => {
      const months = lastMonths(t.app.get(Clock).now());
      const [thisMonth, lastMonth, earlier] = [months[11], months[10], months[8]];
      const inMonth = (m: { start: Date; end: Date }) => new Date((m.start.getTime() + m.end.getTime()) / 2);
      const longAgo = new Date(months[0].start.getTime() - 40 * 86400_000);
      // Other tests of this file add certificates too: each figure is compared with the page before.
      const before = decoded((await admin.get('/admin/figures')).body);
      const author = await t.signedIn('author');
      const popular = await course(t, { title: `Popular ${process.pid}`, authorId: author.userId });
      const quiet = await course(t, { title: `Quiet ${process.pid}`, authorId: author.userId });
      const lessons = await ds.getRepository(Lesson).find({ where: { courseId: popular.id }, order: { position: 'ASC' } });
      const learners: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await ds.getRepository(User).insert({ email: uniqueEmail('figures'), name: `Figures ${i}`, passwordHash: 'x', role: 'learner', organisationId: null, jobRole: 'Tester', createdAt: new Date(), lastSignInAt: null, emailVerifiedAt: new Date(), deactivatedAt: null });
        learners.push(Number(r.identifiers[0].id));
      }
      const enrol = async (userId: number, courseId: number, enrolledAt: Date, completedAt: Date | null) => {
        const r = await ds.getRepository(Enrolment).insert({ userId, courseId, status: completedAt ? 'completed' : 'active', progressPercent: completedAt ? 100 : 50, enrolledAt, lastActivityAt: enrolledAt, withdrawnAt: null, completedAt, nudgedAt: null, completionRecordedAt: completedAt });
        return Number(r.identifiers[0].id);
      };
      // Popular: three enrolments this month (one completed), one last month (completed); quiet: one long ago, one earlier this year.
      const e0 = await enrol(learners[0], popular.id, inMonth(thisMonth), inMonth(thisMonth));
      const e1 = await enrol(learners[1], popular.id, inMonth(thisMonth), null);
      await enrol(learners[2], popular.id, inMonth(thisMonth), null);
      const e3 = await enrol(learners[3], popular.id, inMonth(lastMonth), inMonth(lastMonth));
      await enrol(learners[0], quiet.id, longAgo, longAgo);
      await enrol(learners[1], quiet.id, inMonth(earlier), null);
      const progress = (enrolmentId: number, lessonId: number, at: Date) =>
        ds.getRepository(LessonProgress).insert({ enrolmentId, lessonId, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, completedAt: at, watchAllowanceMs: 0, heartbeatAt: null, updatedAt: at });
      // Learner 0 worked on two lessons this month (counted once); learner 1 this month; learner 3 last month.
      await progress(e0, lessons[0].id, inMonth(thisMonth));
      await progress(e0, lessons[1].id, inMonth(thisMonth));
      await progress(e1, lessons[0].id, inMonth(thisMonth));
      await progress(e3, lessons[0].id, inMonth(lastMonth));
      const certificate = (userId: number, code: string, issuedAt: Date, status: 'valid' | 'revoked' | 'issuing') =>
        ds.getRepository(Certificate).insert({ code, userId, subjectType: 'course', subjectId: popular.id, revision: 1, subjectTitle: 'Popular', holderName: 'Someone', cpdMinutes: 30, achievedAt: issuedAt, issuedAt, fileKey: 'x.pdf', sha256: '0'.repeat(64), recipientSalt: '0'.repeat(32), status, revokedAt: null, revokedReason: null });
      await certificate(learners[0], 'FIGS-AAAA-AAAA', inMonth(thisMonth), 'valid');
      await certificate(learners[3], 'FIGS-BBBB-BBBB', inMonth(lastMonth), 'revoked');
      await certificate(learners[2], 'FIGS-CCCC-CCCC', inMonth(thisMonth), 'issuing');
      const webinar = await saveWebinar(t, { authorId: author.userId, startsAt: inMonth(lastMonth) });
      const attendance = (userId: number, firstJoinedAt: Date | null, creditedAt: Date | null) =>
        ds.getRepository(WebinarAttendance).insert({ webinarId: webinar.id, userId, firstJoinedAt, lastJoinedAt: firstJoinedAt, joinCount: firstJoinedAt ? 1 : 0, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, watchAllowanceMs: 0, heartbeatAt: null, creditedAt, creditRecordedAt: null, updatedAt: new Date() });
      await attendance(learners[0], inMonth(lastMonth), inMonth(lastMonth));
      await attendance(learners[1], inMonth(lastMonth), null);
      await attendance(learners[2], null, inMonth(thisMonth));
      await attendance(learners[3], null, null);

      const page = await admin.get('/admin/figures');
      expect(page.status).toBe(200);
      const body = decoded(page.body);
      expect(body.match(/<svg[^>]*role="img"/g)).toHaveLength(5);
      for (const key of ['activeLearners', 'enrolments', 'completions', 'certificates', 'webinarAttendance']) expect(body).toContain(`<section id="${key}"`);
      expect(figure(body, 'activeLearners', thisMonth.label) - figure(before, 'activeLearners', thisMonth.label)).toBe(2);
      expect(figure(body, 'activeLearners', lastMonth.label) - figure(before, 'activeLearners', lastMonth.label)).toBe(1);
      expect(figure(body, 'enrolments', thisMonth.label) - figure(before, 'enrolments', thisMonth.label)).toBe(3);
      expect(figure(body, 'enrolments', lastMonth.label) - figure(before, 'enrolments', lastMonth.label)).toBe(1);
      expect(figure(body, 'enrolments', earlier.label) - figure(before, 'enrolments', earlier.label)).toBe(1);
      expect(figure(body, 'enrolments', months[0].label) - figure(before, 'enrolments', months[0].label)).toBe(0);
      expect(figure(body, 'completions', thisMonth.label) - figure(before, 'completions', thisMonth.label)).toBe(1);
      expect(figure(body, 'completions', lastMonth.label) - figure(before, 'completions', lastMonth.label)).toBe(1);
      expect(figure(body, 'certificates', thisMonth.label) - figure(before, 'certificates', thisMonth.label)).toBe(1);
      expect(figure(body, 'certificates', lastMonth.label) - figure(before, 'certificates', lastMonth.label)).toBe(1);
      expect(figure(body, 'webinarAttendance', lastMonth.label) - figure(before, 'webinarAttendance', lastMonth.label)).toBe(2);
      expect(figure(body, 'webinarAttendance', thisMonth.label) - figure(before, 'webinarAttendance', thisMonth.label)).toBe(1);
      // Twelve months, oldest first, this month last.
      const labels = [...body.slice(body.indexOf('<section id="enrolments"')).matchAll(/<th scope="row" class="nhsuk-table__header">(\w{3} \d{4})<\/th>/g)].slice(0, 12).map((m) => m[1]);
      expect(labels).toEqual(months.map((m) => m.label));

      const top = body.slice(body.indexOf('<section id="top-courses"'));
      const popularAt = top.indexOf(`Popular ${process.pid}`);
      const quietAt = top.indexOf(`Quiet ${process.pid}`);
      expect(popularAt).toBeGreaterThan(0);
      expect(quietAt).toBeGreaterThan(popularAt);
      expect(top).toMatch(new RegExp(`Popular ${process.pid}</a></th>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">4</td>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">2</td>`));
      expect(top).toMatch(new RegExp(`Quiet ${process.pid}</a></th>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1</td>\\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">0</td>`));

      // Learner 3 works again now: they count this month too, and still count for last month, though their progress row
      // now says only when it last changed.
      await ds.getRepository(LessonProgress).update({ enrolmentId: e3, lessonId: lessons[0].id }, { updatedAt: t.app.get(Clock).now() });
      const later = decoded((await admin.get('/admin/figures')).body);
      expect(figure(later, 'activeLearners', thisMonth.label) - figure(before, 'activeLearners', thisMonth.label)).toBe(3);
      expect(figure(later, 'activeLearners', lastMonth.label) - figure(before, 'activeLearners', lastMonth.label)).toBe(1);
    });
  });
});
