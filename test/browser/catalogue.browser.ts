import { signUpThroughForm } from './support/journey';
import { Browser, BrowserContext } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { RunningServer, startServer } from './support/server';

/**
 * Finding and enrolling on a course in a real browser, on the demo courses: search the catalogue, open a
 * course, enrol, see it in "My learning" with its progress bar. axe and the console checks run on every page.
 */
describe('catalogue (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let checked: CheckedPage;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  it('searches, opens a course, enrols and finds it in My learning', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    checked = await CheckedPage.open(context, server.baseUrl);
    const { page } = checked;
    const pathOf = (url: string) => new URL(url).pathname;

    await signUpThroughForm(checked, {
      name: 'Catalogue Tester',
      email: `catalogue.${Date.now()}.${process.pid}@example.nhs.uk`,
      password: 'correct horse battery staple',
      organisation: 'Kirklees Council',
      jobRole: 'Information governance lead',
    });

    await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Courses' }).click());
    expect(pathOf(page.url())).toBe('/courses');
    await expect(page.locator('.academy-course-list > li').count()).resolves.toBeGreaterThanOrEqual(6);
    await checked.screenshot('catalogue');

    await page.getByLabel('Search').fill('FHIR');
    await checked.navigate(() => page.getByRole('button', { name: 'Show courses' }).click());
    const cards = page.locator('.academy-course-list > li');
    await expect(cards.count()).resolves.toBeGreaterThanOrEqual(1);
    const title = (await cards.first().getByRole('heading').textContent())!.trim();

    await checked.navigate(() => cards.first().getByRole('link').click());
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(title);
    await checked.navigate(() => page.getByRole('button', { name: 'Enrol on this course' }).click());
    await expect(page.getByRole('button', { name: 'Withdraw from this course' }).count()).resolves.toBe(1);
    await checked.screenshot('course-enrolled');

    await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'My learning' }).click());
    await expect(page.locator('main').textContent()).resolves.toContain(title);
    await expect(page.locator('main progress').count()).resolves.toBe(1);
    checked.assertNoProblems();
  });
});
