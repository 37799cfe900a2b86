import { Browser, BrowserContext } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { RunningServer, startServer } from './support/server';

/**
 * The account journey in a real browser: create an account (landing on My learning), correct its details on
 * "Your account", sign out, sign in again, sign out.
 * Every page on the way is checked with axe (WCAG 2.2 AA) and must log no console error, script error or CSP violation.
 */
describe('accounts (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let checked: CheckedPage;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    checked = await CheckedPage.open(context, server.baseUrl);
  });

  afterEach(async () => {
    if (checked?.ignored.length) console.warn(`Tolerated because of BROWSER_TEST_IGNORE:\n${[...new Set(checked.ignored)].join('\n')}`);
    // The pages may use the NHS design system's own asset host (fonts), and nothing else outside the academy.
    for (const url of checked?.externalRequests ?? []) expect(url).toMatch(/^https:\/\/assets\.nhs\.uk\//);
    await context?.close();
  });

  const pathOf = (url: string) => new URL(url).pathname;

  it('runs on the engines the environment names', () => {
    expect(server.health.database?.engine).toBe(process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    expect(server.health.redis?.status).toBe(process.env.REDIS_URL ? 'up' : 'not configured');
  });

  it('creates an account, signs out, signs in again and signs out', async () => {
    const { page } = checked;
    const name = 'Aisha Browser-Test';
    const correctedName = 'Aisha Browser-Tester';
    const email = `browser.${Date.now()}.${process.pid}@example.nhs.uk`;
    const password = 'correct horse battery staple';

    await checked.goto('/', { expectStatus: 200 });
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Learn from peers');
    await checked.screenshot('home');

    await checked.navigate(() => page.getByRole('link', { name: 'Create an account', exact: true }).click());
    expect(pathOf(page.url())).toBe('/sign-up');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Create an account');

    await page.getByLabel('Full name').fill(name);
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(password);
    // With JavaScript the organisation field suggests from the API as you type (none exist yet here).
    const suggested = page.waitForResponse((r) => r.url().includes('/api/v1/organisations?q='));
    await page.getByLabel('Organisation').fill('Leeds Teaching Hospitals NHS Trust');
    expect((await suggested).status()).toBe(200);
    await expect(page.locator('#organisation').getAttribute('list')).resolves.toBe('organisation-suggestions');
    await page.getByLabel('Job role').fill('Digital project lead');
    // No organisation of that name yet: the form comes back, everything kept, offering to ask for a new one.
    const offered = await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
    expect(offered?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 2, name: 'We could not find “Leeds Teaching Hospitals NHS Trust”' }).count()).resolves.toBe(1);
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe(password);
    await page.getByLabel('Ask for a new organisation called “Leeds Teaching Hospitals NHS Trust”').check();
    await page.getByLabel('Type of organisation (optional)').selectOption('nhs_trust');
    await checked.screenshot('sign-up-new-organisation');
    const created = await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
    expect(created?.status()).toBe(200);
    // Signed in, the newcomer lands on their learning, not on their account settings.
    expect(pathOf(page.url())).toBe('/my-learning');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('My learning');

    // "Your account": correct the name (as printed on certificates), organisation and job role.
    await checked.navigate(() => page.getByRole('banner').getByRole('link', { name }).click());
    expect(pathOf(page.url())).toBe('/account');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your account');
    await expect(page.locator('main').textContent()).resolves.toContain(email);
    await expect(page.getByLabel('Full name').inputValue()).resolves.toBe(name);
    await expect(page.locator('main').textContent()).resolves.toContain('Your name is printed on every certificate you get from now on');
    await page.getByLabel('Full name').fill('');
    const refused = await checked.navigate(() => page.getByRole('button', { name: 'Save your details' }).click());
    expect(refused?.status()).toBe(400);
    await expect(page.locator('.nhsuk-error-summary').getByRole('link', { name: 'Enter your full name' }).getAttribute('href')).resolves.toBe('#name');
    await page.getByLabel('Full name').fill(correctedName);
    await page.getByLabel('Job role').fill('Head of digital');
    await checked.navigate(() => page.getByRole('button', { name: 'Save your details' }).click());
    expect(pathOf(page.url())).toBe('/account');
    await expect(page.getByRole('status').textContent()).resolves.toContain('Your details have been saved.');
    await expect(page.getByRole('banner').getByRole('link', { name: correctedName }).count()).resolves.toBe(1);
    await expect(page.getByLabel('Job role').inputValue()).resolves.toBe('Head of digital');
    await checked.screenshot('account-details');

    await checked.navigate(() => page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click());
    expect(pathOf(page.url())).toBe('/sign-in');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
    await expect(page.getByRole('status').textContent()).resolves.toContain('You have signed out.');
    await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' }).count()).resolves.toBe(1);

    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(password);
    await checked.navigate(() => page.getByRole('button', { name: 'Sign in', exact: true }).click());
    expect(pathOf(page.url())).toBe('/my-learning');
    await expect(page.getByRole('banner').getByRole('link', { name: correctedName }).count()).resolves.toBe(1);

    await checked.navigate(() => page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click());
    expect(pathOf(page.url())).toBe('/sign-in');
    await expect(page.getByRole('status').textContent()).resolves.toContain('You have signed out.');

    // Signed out for real: the account page now sends the visitor to sign in.
    await checked.goto('/account');
    expect(pathOf(page.url())).toBe('/sign-in');

    expect(checked.visited.map(pathOf)).toEqual(['/', '/sign-up', '/sign-up', '/my-learning', '/account', '/account/details', '/account', '/sign-in', '/my-learning', '/sign-in', '/sign-in']);
  });

  it('shows the NHS error summary, linked to each field, when the sign-up form is sent empty', async () => {
    const { page } = checked;
    await checked.goto('/sign-up', { expectStatus: 200 });

    const answer = await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
    expect(answer?.status()).toBe(400);
    expect(pathOf(page.url())).toBe('/sign-up');
    await expect(page.title()).resolves.toMatch(/^Error: /);

    const summary = page.locator('.nhsuk-error-summary');
    await expect(summary.getByRole('heading', { name: 'There is a problem' }).count()).resolves.toBe(1);
    const links = summary.getByRole('link');
    const hrefs = await links.evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(hrefs.length).toBeGreaterThanOrEqual(4);
    for (const href of hrefs) expect(href).toMatch(/^#[\w-]+$/);
    // Every link points at a field on the page, and every field in error is in the summary.
    for (const href of hrefs) await expect(page.locator(`input${href}`).count()).resolves.toBe(1);
    for (const id of ['name', 'email', 'password', 'organisation', 'jobRole']) {
      const input = page.locator(`input#${id}`);
      if (await input.evaluate((el) => el.classList.contains('nhsuk-input--error'))) expect(hrefs).toContain(`#${id}`);
    }

    // The design system moves focus to the summary, and following a link focuses its field.
    await expect(page.evaluate(() => document.activeElement?.closest('.nhsuk-error-summary') !== null)).resolves.toBe(true);
    await checked.screenshot('sign-up-errors');
    await links.first().click();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe(hrefs[0]!.slice(1));
    checked.assertNoProblems();
  });
});
