import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { Browser, BrowserContext, Download } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { withServerOutput } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * Issue 13's journey in a real browser, on a server started with the demo content (its administrator and courses):
 * an administrator adds an organisation with a verified domain; two of its staff sign up and verify their addresses
 * (the links read from the administrator's outbox), so they join on the domain; the administrator appoints one of
 * them manager; the manager requires a course of the other's job role; the learner completes it; the manager's
 * dashboard and its chart, the compliance chart and the requirement's page show it, and the CSV and XLSX exports,
 * downloaded through the browser, hold it. Every page on the way is checked with axe (WCAG 2.2 AA) and must log no
 * console error, script error or CSP violation.
 */

interface DemoQuestion { prompt: string; options: Array<{ text: string; correct: boolean }> }
interface DemoLesson { kind: 'text' | 'video' | 'resource' | 'quiz'; title: string; fileName?: string; questions?: DemoQuestion[] }
interface DemoCourse { slug: string; title: string; modules: Array<{ lessons: DemoLesson[] }> }

const COURSE: DemoCourse = JSON.parse(readFileSync(join(__dirname, '..', '..', 'src', 'demo', 'content', 'courses', 'information-governance-essentials.json'), 'utf8'));
const LESSONS = COURSE.modules.flatMap((m) => m.lessons);
const PASSWORD = 'correct horse battery staple';
const pathOf = (url: string) => new URL(url).pathname;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('organisations, managers and required learning (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const checkedPages: CheckedPage[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.stop();
  });

  /** A browser of its own for each person, every page in it checked. */
  async function person(): Promise<CheckedPage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', acceptDownloads: true });
    contexts.push(context);
    const checked = await CheckedPage.open(context, server.baseUrl);
    checked.page.setDefaultTimeout(15_000);
    checkedPages.push(checked);
    return checked;
  }

  afterEach(() => {
    for (const checked of checkedPages) {
      if (checked.ignored.length) console.warn(`Tolerated because of BROWSER_TEST_IGNORE:\n${[...new Set(checked.ignored)].join('\n')}`);
      for (const url of checked.externalRequests) expect(url).toMatch(/^https:\/\/assets\.nhs\.uk\//);
    }
  });

  it('runs on the engines the environment names', () => {
    expect(server.health.database?.engine).toBe(process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    expect(server.health.redis?.status).toBe(process.env.REDIS_URL ? 'up' : 'not configured');
  });

  it('an administrator appoints a manager, who requires a course of a job role; a learner of that role completes it; the dashboard, charts and exports show it', () =>
    withServerOutput(server, async () => {
      const stamp = `${Date.now().toString(36)}${process.pid}`;
      const organisationName = `Browser Journey Community NHS Trust ${stamp}`;
      const domain = `journey-${stamp}.nhs.uk`;
      const managerPerson = { name: 'Morgan Ellis', email: `morgan.ellis@${domain}`, jobRole: 'Learning and development lead' };
      const learnerPerson = { name: 'Lee Carter', email: `lee.carter@${domain}`, jobRole: 'Ward clerk' };

      // The administrator: the demo account printed at the first start.
      const credentials = /^\s*admin\s+(\S+@\S+)\s+(\S+)\s*$/m.exec(server.output());
      if (!credentials) throw new Error('The server did not print the demo administrator (DEMO_DATA=true prints the demo accounts at the first start)');
      const admin = await person();
      await signIn(admin, credentials[1], credentials[2]);

      // Adds the organisation and its verified domain.
      await admin.goto('/admin', { expectStatus: 200 });
      await admin.navigate(() => admin.page.getByRole('main').getByRole('link', { name: 'Organisations', exact: true }).click());
      expect(pathOf(admin.page.url())).toBe('/admin/organisations');
      await admin.navigate(() => admin.page.getByRole('button', { name: 'Add an organisation' }).click());
      await admin.page.getByLabel('Name', { exact: true }).fill(organisationName);
      await admin.page.getByLabel('Type', { exact: true }).selectOption({ label: 'NHS trust' });
      await admin.page.getByLabel('Region (optional)').selectOption({ label: 'North West' });
      await admin.navigate(() => admin.page.getByRole('button', { name: 'Add organisation' }).click());
      const organisationPath = pathOf(admin.page.url());
      expect(organisationPath).toMatch(/^\/admin\/organisations\/\d+$/);
      const organisationId = Number(organisationPath.split('/').pop());
      await expect(heading(admin)).resolves.toBe(organisationName);
      await admin.page.getByLabel('Add a domain').fill(domain);
      await admin.navigate(() => admin.page.getByRole('button', { name: 'Add domain' }).click());
      await expect(admin.page.locator('main').textContent()).resolves.toContain(domain);
      await admin.screenshot('admin-organisation');

      // Two of its staff sign up, naming it, and open the link they are e-mailed: on its domain, they join at once.
      const manager = await person();
      const learner = await person();
      for (const [checked, who] of [[manager, managerPerson], [learner, learnerPerson]] as const) {
        await checked.goto('/sign-up', { expectStatus: 200 });
        await checked.page.getByLabel('Full name').fill(who.name);
        await checked.page.getByLabel('E-mail address').fill(who.email);
        await checked.page.getByLabel('Password').fill(PASSWORD);
        // With JavaScript the field suggests organisations as you type: the suggestions arrive before the form goes.
        const suggested = checked.page.waitForResponse((r) => r.url().includes('/api/v1/organisations?q='));
        await checked.page.getByLabel('Organisation').fill(organisationName);
        expect((await suggested).status()).toBe(200);
        await checked.page.getByLabel('Job role').fill(who.jobRole);
        await checked.navigate(() => checked.page.getByRole('button', { name: 'Create account' }).click());
        expect(pathOf(checked.page.url())).toBe('/my-learning');
        const link = await verificationLink(admin, who.email);
        await checked.navigate(() => checked.page.goto(link));
        await expect(heading(checked)).resolves.toBe('Your e-mail address is verified');
        await checked.goto('/account/organisations', { expectStatus: 200 });
        await expect(checked.page.locator('main').textContent()).resolves.toContain(organisationName);
      }
      await learner.screenshot('learner-organisations');

      // The administrator appoints the first a manager.
      await admin.goto(organisationPath, { expectStatus: 200 });
      await admin.page.getByLabel('Appoint a manager').fill(managerPerson.email);
      await admin.navigate(() => admin.page.getByRole('button', { name: 'Appoint manager' }).click());
      expect(pathOf(admin.page.url())).toBe(organisationPath);
      await expect(admin.page.locator('main').textContent()).resolves.toContain(managerPerson.name);

      // The manager finds the organisation in the header menu, and requires the course of ward clerks, yearly.
      const { page } = manager;
      await manager.goto('/my-learning', { expectStatus: 200 });
      await manager.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Organisation' }).click());
      const dashboardPath = `/organisation/${organisationId}`;
      expect(pathOf(page.url())).toBe(dashboardPath);
      await expect(heading(manager)).resolves.toBe(organisationName);
      await expect(page.locator('#figure-completions').textContent()).resolves.toBe('0');
      await manager.navigate(() => page.getByRole('main').getByRole('link', { name: 'Required learning' }).click());
      expect(pathOf(page.url())).toBe(`${dashboardPath}/requirements`);
      await manager.navigate(() => page.getByRole('button', { name: 'Add a required course' }).click());
      expect(pathOf(page.url())).toBe(`${dashboardPath}/requirements/new`);
      await page.getByLabel('Course', { exact: true }).selectOption({ label: COURSE.title });
      await page.getByLabel('People with some job roles').check();
      await page.getByLabel(learnerPerson.jobRole, { exact: true }).check();
      await page.getByLabel('A number of days after joining').check();
      await page.getByRole('textbox', { name: 'Number of days' }).fill('30');
      await page.getByRole('textbox', { name: 'Renew every (months, optional)' }).fill('12');
      await manager.screenshot('requirement-form');
      await manager.navigate(() => page.getByRole('button', { name: 'Require the course' }).click());
      await manager.goto(`${dashboardPath}/requirements`, { expectStatus: 200 });
      await expect(complianceRow(manager)).resolves.toEqual([COURSE.title, '0%', expect.any(String)]);

      // The learner completes the course: text lessons, the resource's download, the quiz.
      await completeCourse(learner);

      // The manager's dashboard counts the completion, in this year's figure and this month's bar and row.
      await manager.goto(dashboardPath, { expectStatus: 200 });
      await expect(page.locator('#figure-completions').textContent()).resolves.toBe('1');
      const chart = page.locator('main svg[role="img"]').first();
      await expect(chart.count()).resolves.toBe(1);
      const months = page.locator('.academy-chart-figure table tbody tr');
      await expect(months.count()).resolves.toBe(12);
      await expect(months.last().locator('td').first().textContent()).resolves.toBe('1');
      await expect(chart.textContent()).resolves.toContain('1');
      await manager.screenshot('manager-dashboard');
      await manager.navigate(() => page.getByRole('main').getByRole('link', { name: 'Active staff' }).click());
      await expect(page.locator('main').textContent()).resolves.toContain(learnerPerson.name);

      // Compliance: the chart's bar and its table at 100%, and the learner complete on the requirement's page.
      await manager.goto(`${dashboardPath}/requirements`, { expectStatus: 200 });
      await expect(complianceRow(manager)).resolves.toEqual([COURSE.title, '100%', expect.any(String)]);
      await expect(page.locator('main svg[role="img"]').first().textContent()).resolves.toContain('100%');
      await manager.screenshot('manager-compliance');
      await manager.navigate(() => page.getByRole('main').getByRole('link', { name: COURSE.title, exact: true }).first().click());
      const row = page.getByRole('row').filter({ hasText: learnerPerson.name });
      await expect(row.textContent()).resolves.toMatch(/Complete/);

      // The exports, downloaded as the browser does.
      await manager.goto(`${dashboardPath}/requirements`, { expectStatus: 200 });
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(Date.now());
      const csv = await download(manager, 'Compliance as a CSV file');
      expect(csv.download.suggestedFilename()).toMatch(/^compliance-.+\.csv$/);
      const lines = csv.bytes.toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
      expect(lines[0]).toBe(`Name,E-mail,Job role,${COURSE.title}: status,${COURSE.title}: completed or due`);
      expect(lines).toContain(`${learnerPerson.name},${learnerPerson.email},${learnerPerson.jobRole},Complete,${today}`);
      expect(lines.find((l) => l.startsWith(managerPerson.name))).toBe(`${managerPerson.name},${managerPerson.email},${managerPerson.jobRole},Not required,`);
      const xlsx = await download(manager, 'Compliance as an Excel workbook (XLSX)');
      expect(xlsx.download.suggestedFilename()).toMatch(/^compliance-.+\.xlsx$/);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('Compliance')!;
      const rows = Array.from({ length: sheet.rowCount }, (_, i) => (sheet.getRow(i + 1).values as unknown[]).slice(1));
      const lee = rows.find((r) => r[0] === learnerPerson.name)!;
      expect(lee.slice(0, 4)).toEqual([learnerPerson.name, learnerPerson.email, learnerPerson.jobRole, 'Complete']);
      expect((lee[4] as Date).toISOString().slice(0, 10)).toBe(today);

      for (const checked of checkedPages) checked.assertNoProblems();
    }), 300_000);

  it("shows the demo manager a living dashboard from the demo organisations, every page of it axe-clean", () =>
    withServerOutput(server, async () => {
      const credentials = /^\s*org_manager\s+(manager@demo\.peer-academy\.local)\s+(\S+)\s*$/m.exec(server.output());
      if (!credentials) throw new Error('The server did not print the demo manager');
      const jo = await person();
      const { page } = jo;
      await signIn(jo, credentials[1], credentials[2]);
      await jo.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Organisation' }).click());
      expect(pathOf(page.url())).toMatch(/^\/organisation\/\d+$/);
      await expect(heading(jo)).resolves.toBe('Demo Community Health NHS Trust');
      await expect(page.locator('#figure-completions').textContent()).resolves.not.toBe('0');
      const bars = await page.locator('.academy-chart-figure table tbody tr td:first-of-type').allTextContents();
      expect(bars.filter((b) => b.trim() !== '0').length).toBeGreaterThanOrEqual(6);
      await jo.screenshot('demo-manager-dashboard');
      const dashboard = page.url();
      for (const link of ['Staff', 'Courses', 'Required learning', 'Requests to join']) {
        await jo.goto(dashboard);
        await jo.navigate(() => page.getByRole('main').getByRole('link', { name: link, exact: true }).last().click());
        if (link === 'Staff') {
          await expect(page.locator('main').textContent()).resolves.toContain('Siobhán O’Connor');
          await jo.screenshot('demo-manager-staff');
          await jo.navigate(() => page.getByRole('main').getByRole('link', { name: 'Priya Shah' }).click());
          await expect(heading(jo)).resolves.toContain('Priya Shah');
        }
        if (link === 'Required learning') {
          await jo.screenshot('demo-manager-compliance');
          const statuses = await page.locator('main table').last().locator('.nhsuk-tag').allTextContents();
          expect(statuses.map((t) => t.trim()).sort()).toEqual(['Amber', 'Red']);
          for (const title of ['Clinical safety standards: DCB0129 and DCB0160 in practice', 'Information governance essentials for health and care IT']) {
            await jo.navigate(() => page.getByRole('main').getByRole('link', { name: title, exact: true }).first().click());
            await expect(page.locator('main').textContent()).resolves.toContain(title === 'Information governance essentials for health and care IT' ? 'Anjali Nair' : 'Amara Okonkwo');
            await jo.navigate(() => page.goBack());
          }
        }
        if (link === 'Requests to join') await expect(page.locator('main').textContent()).resolves.toContain('Grace Mwangi');
      }
      jo.assertNoProblems();
    }), 120_000);

  async function signIn(checked: CheckedPage, email: string, password: string) {
    await checked.goto('/sign-in', { expectStatus: 200 });
    await checked.page.getByLabel('E-mail address').fill(email);
    await checked.page.getByLabel('Password').fill(password);
    await checked.navigate(() => checked.page.getByRole('button', { name: 'Sign in', exact: true }).click());
  }

  const heading = (checked: CheckedPage) => checked.page.getByRole('heading', { level: 1 }).textContent();

  /** The newest verification e-mail to this address, read in the administrator's outbox: its link. */
  async function verificationLink(admin: CheckedPage, email: string): Promise<string> {
    await admin.goto('/admin/outbox', { expectStatus: 200 });
    const message = admin.page.getByRole('row').filter({ hasText: email }).first();
    await admin.navigate(() => message.getByRole('link').click());
    const text = (await admin.page.locator('main').textContent()) ?? '';
    const link = /https?:\/\/\S+\/verify-email\?\S+/.exec(text)?.[0];
    if (!link) throw new Error(`No verification link in the message to ${email}:\n${text}`);
    return link.replace(/&amp;/g, '&');
  }

  /** The compliance table's row of the course: its cells as text. */
  async function complianceRow(checked: CheckedPage): Promise<string[]> {
    const row = checked.page.locator('.academy-chart-figure table tbody tr').filter({ hasText: COURSE.title });
    return (await row.locator('th, td').allTextContents()).map((t) => t.trim());
  }

  async function download(checked: CheckedPage, linkName: string): Promise<{ download: Download; bytes: Buffer }> {
    const [file] = await Promise.all([checked.page.waitForEvent('download'), checked.page.getByRole('link', { name: linkName }).click()]);
    expect(await file.failure()).toBeNull();
    return { download: file, bytes: readFileSync((await file.path())!) };
  }

  async function completeCourse(checked: CheckedPage) {
    const { page } = checked;
    await checked.goto(`/courses/${COURSE.slug}`, { expectStatus: 200 });
    await checked.navigate(() => page.getByRole('button', { name: 'Enrol on this course' }).click());
    await checked.navigate(() => page.getByRole('button', { name: 'Start the course' }).click());
    for (const [index, lesson] of LESSONS.entries()) {
      await expect(heading(checked)).resolves.toBe(lesson.title);
      const next = LESSONS[index + 1];
      if (lesson.kind === 'text') {
        await checked.navigate(() => page.getByRole('button', { name: 'Mark as complete' }).click());
      } else if (lesson.kind === 'resource') {
        const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${lesson.fileName}` }).click()]);
        expect(await file.failure()).toBeNull();
        await checked.navigate(() => page.reload());
        await expect(page.locator('main .nhsuk-tag').first().textContent()).resolves.toBe('Completed');
        await checked.navigate(() => page.getByRole('navigation', { name: 'Lessons', exact: true }).getByRole('link', { name: new RegExp(`^Next\\W+${escapeRegExp(next!.title)}$`) }).click());
      } else if (lesson.kind === 'quiz') {
        for (const [n, question] of lesson.questions!.entries()) {
          const group = page.getByRole('group', { name: `${n + 1}. ${question.prompt}` });
          for (const option of question.options) if (option.correct) await group.getByLabel(option.text, { exact: true }).check();
        }
        await checked.navigate(() => page.getByRole('button', { name: 'Check my answers' }).click());
        await expect(page.locator('#course-complete').getByRole('heading').textContent()).resolves.toBe('Course complete');
      } else {
        throw new Error(`The journey's course has a ${lesson.kind} lesson`);
      }
    }
    // The certificate is issued in the background; the course page shows its link once it exists.
    await checked.navigate(() => page.locator('#course-complete').getByRole('link', { name: 'See your learning' }).click());
    await checked.goto(`/courses/${COURSE.slug}`, { expectStatus: 200 });
    await page.locator('#certificate-status').getByRole('link', { name: 'Download your certificate' }).waitFor({ timeout: 60_000 });
    await checked.screenshot('learner-course-complete');
  }
});
