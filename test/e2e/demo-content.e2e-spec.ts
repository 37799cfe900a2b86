import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { CourseDefinition, CourseImporter } from '../../src/catalogue/course-importer';
import { CertificatesService } from '../../src/certificates/certificates.service';
import { Clock } from '../../src/common/clock';
import { copyDemoFiles, DEMO_CONTENT_DIR, seedDemo, seedDemoCourses } from '../../src/demo/demo.seeder';
import { DEMO_MANAGER_EMAIL } from '../../src/demo/organisation-seeder';
import { seedDemoWebinars, webinarDefinitions } from '../../src/demo/webinar-seeder';
import { FileStorage } from '../../src/storage/file-storage';
import { startTestApp, TestApp, Visitor } from '../support/app';

const definitions: CourseDefinition[] = readdirSync(join(DEMO_CONTENT_DIR, 'courses'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(DEMO_CONTENT_DIR, 'courses', f), 'utf8')));

describe('demo courses (content written by the project)', () => {
  it('has at least six courses, each with text lessons, a resource, a required quiz, and one with a real video', () => {
    expect(definitions.length).toBeGreaterThanOrEqual(6);
    for (const course of definitions) {
      const lessons = course.modules.flatMap((m) => m.lessons);
      expect(lessons.filter((l) => l.kind === 'text').length).toBeGreaterThanOrEqual(2);
      expect(lessons.some((l) => l.kind === 'resource')).toBe(true);
      expect(lessons.some((l) => l.kind === 'quiz' && l.required)).toBe(true);
      expect(course.description).not.toMatch(/lorem ipsum/i);
    }
    const videos = definitions.flatMap((c) => c.modules.flatMap((m) => m.lessons)).filter((l) => l.kind === 'video');
    expect(videos.length).toBeGreaterThanOrEqual(1);
    for (const video of videos) {
      if (video.kind !== 'video') continue;
      const file = join(DEMO_CONTENT_DIR, video.video);
      expect(readFileSync(file).subarray(4, 8).toString('latin1')).toBe('ftyp');
      expect(statSync(file).size).toBeLessThan(3 * 1024 * 1024);
    }
  });

  it('has quiz questions a learner can answer: one right option for single choice, two or more for multiple', () => {
    for (const lesson of definitions.flatMap((c) => c.modules.flatMap((m) => m.lessons))) {
      if (lesson.kind === 'resource') expect(existsSync(join(DEMO_CONTENT_DIR, lesson.file))).toBe(true);
      if (lesson.kind !== 'quiz') continue;
      expect(lesson.passMark).toBeGreaterThan(0);
      for (const question of lesson.questions) {
        const right = question.options.filter((o) => o.correct).length;
        if (question.multiple) expect(right).toBeGreaterThanOrEqual(2);
        else expect(right).toBe(1);
        expect(question.explanation.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('seeding the demo courses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('imports every course once, published, with its syllabus and quiz, and finds them in the catalogue', async () => {
    const author = await t.signedIn('author');
    const importer = t.app.get(CourseImporter);
    expect(await seedDemoCourses(importer, t.app.get(FileStorage), author.userId)).toBe(definitions.length);
    expect(await seedDemoCourses(importer, t.app.get(FileStorage), author.userId)).toBe(0);
    const listed = (await t.visitor().get('/api/v1/courses')).json();
    expect(listed.total).toBe(definitions.length);
    const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM quiz_options');
    expect(Number(n)).toBeGreaterThan(definitions.length * 10);
    const first = definitions[0];
    const page = await t.visitor().get(`/courses/${first.slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(first.modules[0].lessons[0].title.replace(/&/g, '&amp;').replace(/'/g, '&#x27;'));
  });

  it('creates the demo webinars once: at least three upcoming and one past with its recording, listed by the API', async () => {
    const author = await t.signedIn('author');
    const storage = t.app.get(FileStorage);
    await copyDemoFiles(storage);
    const dir = join(DEMO_CONTENT_DIR, 'webinars');
    const definitions = webinarDefinitions(dir);
    for (const webinar of definitions) expect(`${webinar.title} ${webinar.summary} ${webinar.description}`).not.toMatch(/lorem ipsum/i);
    expect(await seedDemoWebinars(t.app.get(DataSource), storage, author.userId, dir, new Date())).toBe(definitions.length);
    expect(await seedDemoWebinars(t.app.get(DataSource), storage, author.userId, dir, new Date())).toBe(0);
    const upcoming = (await t.visitor().get('/api/v1/webinars?when=upcoming')).json();
    expect(upcoming.total).toBeGreaterThanOrEqual(3);
    expect(upcoming.items.every((w: { phase: string }) => w.phase === 'scheduled')).toBe(true);
    const past = (await t.visitor().get('/api/v1/webinars?when=past')).json();
    expect(past.total).toBeGreaterThanOrEqual(1);
    const recorded = past.items.find((w: { hasRecording: boolean }) => w.hasRecording);
    expect(recorded).toBeDefined();
    const detail = (await t.visitor().get(`/api/v1/webinars/${recorded.slug}`)).json();
    expect(detail.recording).toEqual({ kind: 'video', durationSeconds: expect.any(Number) });
    expect(detail.recording.durationSeconds).toBeGreaterThan(30);
    expect(detail.presenters.length).toBeGreaterThanOrEqual(2);
    // The recording plays with captions, for a signed-in learner.
    const learner = await t.signedIn('learner');
    expect((await learner.get(`/webinars/${recorded.slug}`)).body).toContain(`src="/webinars/${recorded.slug}/recording/captions.vtt"`);
    const captions = await learner.get(`/webinars/${recorded.slug}/recording/captions.vtt`);
    expect(captions.status).toBe(200);
    expect(captions.body).toMatch(/^WEBVTT/);
  });
});

describe('the demo organisations (seeded with everything else, as at a first start)', () => {
  let t: TestApp;
  const printed: string[] = [];
  let seconds = 0;
  const credentials = (email: string) => {
    const line = printed.find((l) => l.includes(` ${email} `));
    if (!line) throw new Error(`${email} was not printed:\n${printed.join('\n')}`);
    return { email, password: line.trim().split(/\s+/)[2] };
  };
  const TABLES = ['users', 'organisations', 'organisation_domains', 'organisation_memberships', 'organisation_requirements', 'requirement_job_roles', 'enrolments', 'lesson_progress', 'quiz_attempts', 'certificates', 'audit_log', 'mail_messages', 'courses', 'webinars'];
  const counts = async () => {
    const db = t.app.get(DataSource);
    const result: Record<string, number> = {};
    for (const table of TABLES) result[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    return result;
  };
  let trustId: number;
  let manager: Visitor;
  let api: Visitor;

  beforeAll(async () => {
    t = await startTestApp();
    const started = performance.now();
    await seedDemo(t.app, t.config.publicUrl, (line) => printed.push(line));
    seconds = (performance.now() - started) / 1000;
    process.stdout.write(`demo seeding (${t.engines.kind}): ${seconds.toFixed(1)} s\n`);
    const jo = credentials(DEMO_MANAGER_EMAIL);
    manager = t.visitor();
    await manager.signIn(jo.email, jo.password);
    api = await t.apiClient(jo.email, jo.password);
    const listed = await manager.get('/organisation');
    expect(listed.status).toBe(303);
    trustId = Number(/^\/organisation\/(\d+)$/.exec(String(listed.headers.location))![1]);
  }, 120_000);
  afterAll(() => t.close());

  it('prints the demo accounts, the two other managers and the exchange’s moderator once, no staff; puts the clock back to the present', async () => {
    const accounts = printed.filter((l) => /^\s+\S+\s+\S+@\S+\s+\S{12}$/.test(l));
    expect(accounts.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'admin admin@demo.peer-academy.local',
      'author author@demo.peer-academy.local',
      'org_manager manager@demo.peer-academy.local',
      'learner learner@demo.peer-academy.local',
      'org_manager nadia.rahman@riverside.demo.peer-academy.local',
      'org_manager marcus.johnson@meadowbank.demo.peer-academy.local',
      'moderator ruth.adebayo@riverside.demo.peer-academy.local',
    ]);
    expect(Math.abs(t.app.get(Clock).now().getTime() - Date.now())).toBeLessThan(1000);
    expect(seconds).toBeLessThan(60);
  });

  it('gives the demo manager a living dashboard: staff, a request to join, completions over many months', async () => {
    const page = await manager.get(`/organisation/${trustId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Demo Community Health NHS Trust');
    expect(page.body).toMatch(/<svg[^>]*role="img"/);
    const summary = (await api.get(`/api/v1/organisations/${trustId}`)).json();
    expect(summary.figures).toMatchObject({ activeStaff: 14, pendingRequests: 1 });
    expect(summary.figures.enrolments).toBeGreaterThanOrEqual(25);
    const courses = (await api.get(`/api/v1/organisations/${trustId}/courses`)).json();
    expect(courses.reduce((sum: number, c: { inProgress: number }) => sum + c.inProgress, 0)).toBeGreaterThanOrEqual(5);
    const months = summary.completionsPerMonth.filter((m: { completions: number }) => m.completions > 0);
    expect(months.length).toBeGreaterThanOrEqual(6);
    expect(months.reduce((sum: number, m: { completions: number }) => sum + m.completions, 0)).toBeGreaterThanOrEqual(15);

    const staff = (await api.get(`/api/v1/organisations/${trustId}/staff`)).json();
    expect(staff.total).toBe(14);
    const byName = new Map(staff.items.map((p: { name: string; learning: Record<string, number> }) => [p.name, p.learning]));
    expect(byName.get('Priya Shah')).toMatchObject({ completed: 1, inProgress: 1 });
    expect(byName.get('Anjali Nair')).toMatchObject({ enrolled: 0 });
    expect(byName.get('Siobhán O’Connor')).toMatchObject({ enrolled: 1, inProgress: 0, completed: 0 });
    expect(byName.get('Sam Okafor')).toMatchObject({ completed: 3, certificates: 3 });
    expect((await manager.get(`/organisation/${trustId}/staff`)).body).toContain('Siobhán O’Connor');
    const pending = (await api.get(`/api/v1/organisations/${trustId}/staff?status=pending`)).json();
    expect(pending.items.map((p: { name: string }) => p.name)).toEqual(['Grace Mwangi']);
    // The administrator withdrew the request the demo accounts' sign-up made for him.
    const left = (await api.get(`/api/v1/organisations/${trustId}/staff?status=left`)).json();
    expect(left.items.map((p: { name: string }) => p.name)).toEqual(['Alex Morgan']);

    // Each organisation has its manager, and the demo manager sees only her own.
    const organisations = await t.app.get(DataSource).query("SELECT id, name, type, ods_code AS odsCode, status FROM organisations WHERE name LIKE 'Demo %' ORDER BY id");
    expect(organisations.map((o: { name: string; status: string }) => `${o.name} ${o.status}`)).toEqual(['Demo Community Health NHS Trust active', 'Demo Riverside GP Federation active', 'Demo Meadowbank Care active']);
    for (const other of organisations.slice(1)) expect((await api.get(`/api/v1/organisations/${other.id}`)).status).toBe(404);
    const nadia = await t.apiClient(credentials('nadia.rahman@riverside.demo.peer-academy.local').email, credentials('nadia.rahman@riverside.demo.peer-academy.local').password);
    // Six staff and the exchange's moderator, Ruth Adebayo.
    expect((await nadia.get(`/api/v1/organisations/${organisations[1].id}/staff`)).json().total).toBe(7);
    expect((await nadia.get(`/api/v1/organisations/${trustId}`)).status).toBe(404);
    const marcus = credentials('marcus.johnson@meadowbank.demo.peer-academy.local');
    expect((await (await t.apiClient(marcus.email, marcus.password)).get(`/api/v1/organisations/${organisations[2].id}/staff`)).json().total).toBe(5);
  });

  it("has two requirements: everyone's (amber), and the clinical safety officers' with a 12-month renewal (red)", async () => {
    const requirements = (await api.get(`/api/v1/organisations/${trustId}/requirements`)).json();
    const byCourse = new Map(requirements.map((r: { courseSlug: string }) => [r.courseSlug, r]));
    expect(requirements).toHaveLength(2);
    expect(byCourse.get('information-governance-essentials')).toMatchObject({ audience: 'everyone', renewalMonths: null, compliance: { audience: 14, complete: 10, due: 2, notDue: 2, overdue: 0, rag: 'amber' } });
    const safety = byCourse.get('clinical-safety-dcb0129-dcb0160') as { id: number };
    expect(safety).toMatchObject({ audience: 'job_roles', jobRoles: ['Clinical safety officer'], renewalMonths: 12, compliance: { audience: 4, complete: 1, due: 1, overdue: 2, rag: 'red' } });
    const detail = (await api.get(`/api/v1/organisations/${trustId}/requirements/${safety.id}`)).json();
    const status = Object.fromEntries(detail.members.map((m: { name: string; status: string }) => [m.name, m.status]));
    expect(status).toEqual({ 'Amara Okonkwo': 'overdue', 'Kwabena Mensah': 'due', 'Mei Lin Chen': 'complete', 'Priya Shah': 'overdue' });
    // Amara's certificate is more than a year old: she is due again from the day it expired.
    const amara = detail.members.find((m: { name: string }) => m.name === 'Amara Okonkwo');
    expect(amara.daysLeft).toBeLessThan(0);
    expect(amara.daysLeft).toBeGreaterThan(-40);
    expect((await manager.get(`/organisation/${trustId}/requirements`)).status).toBe(200);
  });

  it('issued every certificate through the certificates job when it was earned, and each PDF is the one its dates make', async () => {
    const db = t.app.get(DataSource);
    const rows: Array<{ code: string; achievedAt: Date | string; issuedAt: Date | string; completedAt: Date | string; recordedAt: Date | string | null }> = await db.query(
      `SELECT c.code AS code, c.achieved_at AS achievedAt, c.issued_at AS issuedAt, e.completed_at AS completedAt, e.completion_recorded_at AS recordedAt
         FROM certificates c JOIN enrolments e ON e.user_id = c.user_id AND e.course_id = c.subject_id WHERE c.subject_type = 'course'`,
    );
    expect(rows.length).toBe(27);
    const date = (v: Date | string) => (v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));
    for (const row of rows) {
      expect(date(row.achievedAt).getTime()).toBe(date(row.completedAt).getTime());
      const lag = date(row.issuedAt).getTime() - date(row.achievedAt).getTime();
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(60_000);
      expect(row.recordedAt).not.toBeNull();
    }
    expect(new Set(rows.map((r) => date(r.issuedAt).toISOString().slice(0, 7))).size).toBeGreaterThanOrEqual(9);
    const certificates = t.app.get(CertificatesService);
    for (const row of rows.slice(0, 3)) {
      const certificate = await certificates.verify(row.code);
      const pdf = await manager.get(`/certificates/${row.code}.pdf`);
      expect(pdf.status).toBe(200);
      expect(pdf.bytes.equals(await certificates.renderFor(certificate))).toBe(true);
    }
  });

  it('changes nothing when it runs again', async () => {
    // The first seeding's jobs (the demo discussions' notification e-mails among them) finish first.
    await t.drainJobs(60_000);
    const before = await counts();
    const again: string[] = [];
    await seedDemo(t.app, t.config.publicUrl, (line) => again.push(line));
    expect(again).toEqual([]);
    await t.drainJobs(60_000);
    expect(await counts()).toEqual(before);
    expect(Math.abs(t.app.get(Clock).now().getTime() - Date.now())).toBeLessThan(1000);
  });
});
