import { Browser, BrowserContext, Request } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { withServerOutput } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * Saving a course's details unchanged, in a real browser: the demo author creates a course whose description and
 * "who it is for" are whitespace-sensitive Markdown (a leading blank line, lists, indented code, hard breaks,
 * a tab, Chinese and Arabic, `&amp;`, `<`, even `</textarea>`), then presses "Save details" twice without
 * touching anything. Chromium parses the page and sends the form itself (line breaks as CRLF); what is stored,
 * read back through the API as the author, stays byte for byte what was typed. Then a lesson is deleted through
 * its confirmation page. axe and the console checks run on every page.
 */

const MARKDOWN = [
  '',
  '## What you will learn',
  '',
  '- Keep a hazard log &amp; review it',
  '- Score a risk when severity < 3 and likelihood > 2',
  '  - a nested point, indented two spaces',
  '',
  '    $ academy export --since 2024-01-01',
  '    if (risk < 3 && owner) { review(); }',
  '',
  'A line that ends in two spaces  ',
  'breaks here; a tab\tstays; </textarea> and &lt; stay as typed.',
  '',
  '临床安全：危害日志的要点',
  'السلامة السريرية: سجل المخاطر',
  '',
].join('\n');
const CODE_FIRST = '    $ first line is code\n\n- Clinical safety officers &amp; CCIOs\n- 临床安全官  \n  ';
const TITLE = `Hazard logs &amp; <risk>  "in" practice`;
const SUMMARY = 'Keep a log that stands up to DCB0129 &amp; DCB0160, in under an hour';

describe('course authoring (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  it('saves a course form unchanged twice and what is stored stays byte for byte what was typed', () => withServerOutput(server, async () => {
    const credentials = /^\s*author\s+(\S+@\S+)\s+(\S+)\s*$/m.exec(server.output());
    if (!credentials) throw new Error('The server did not print the demo author account (DEMO_DATA=true prints the demo accounts at the first start)');
    const token = await fetch(`${server.baseUrl}/api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: credentials[1], password: credentials[2] }) });
    expect(token.status).toBe(201);
    const bearer = ((await token.json()) as { token: string }).token;
    /** The course as stored, read through the API as its author (drafts are visible to them). */
    const stored = async (slug: string) => {
      const answer = await fetch(`${server.baseUrl}/api/v1/courses/${slug}`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(answer.status).toBe(200);
      return (await answer.json()) as Record<string, unknown>;
    };

    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const checked = await CheckedPage.open(context, server.baseUrl);
    const { page } = checked;
    await checked.goto('/sign-in', { expectStatus: 200 });
    await page.getByLabel('E-mail address').fill(credentials[1]);
    await page.getByLabel('Password').fill(credentials[2]);
    await checked.navigate(() => page.getByRole('button', { name: 'Sign in', exact: true }).click());

    await checked.goto('/author/courses/new', { expectStatus: 200 });
    await page.getByLabel('Title', { exact: true }).fill(TITLE);
    await page.getByLabel('Summary', { exact: true }).fill(SUMMARY);
    await page.getByLabel('Description', { exact: true }).fill(MARKDOWN);
    await page.getByLabel('Who it is for', { exact: true }).fill(CODE_FIRST);
    await page.getByLabel('Topic', { exact: true }).selectOption({ index: 1 });
    await page.getByLabel('Level', { exact: true }).selectOption('intermediate');
    await page.getByLabel('CPD hours').fill('1.5');
    await checked.navigate(() => page.getByRole('button', { name: 'Create course' }).click());
    expect(new URL(page.url()).pathname).toMatch(/^\/author\/courses\/\d+$/);
    const coursePage = new URL(page.url()).pathname;
    const slug = /^\/courses\/(.+)$/.exec((await page.getByRole('link', { name: /^Preview as a learner/ }).getAttribute('href')) ?? '')?.[1];
    expect(slug).toBeTruthy();

    const original = await stored(slug!);
    expect(original).toMatchObject({ title: TITLE, summary: SUMMARY, description: MARKDOWN, whoFor: CODE_FIRST, level: 'intermediate' });

    for (const save of ['first', 'second']) {
      await checked.goto(coursePage, { expectStatus: 200 });
      // The form shows the text exactly as stored.
      await expect(page.getByLabel('Description', { exact: true }).inputValue()).resolves.toBe(MARKDOWN);
      await expect(page.getByLabel('Who it is for', { exact: true }).inputValue()).resolves.toBe(CODE_FIRST);
      const posted = page.waitForRequest((request: Request) => request.method() === 'POST' && new URL(request.url()).pathname === coursePage);
      await checked.navigate(() => page.getByRole('button', { name: 'Save details' }).click());
      // Chromium sent the line breaks as CRLF, the leading blank line included.
      const body = new URLSearchParams((await posted).postData() ?? '');
      expect(body.get('description')).toBe(MARKDOWN.replace(/\n/g, '\r\n'));
      await expect(page.locator('main').textContent()).resolves.toContain('Your changes have been saved.');
      expect({ save, stored: await stored(slug!) }).toEqual({ save, stored: original });
    }

    // Deleting asks first, on a page of its own: a link to it, then a plain form (no JavaScript needed).
    await checked.goto(coursePage, { expectStatus: 200 });
    await page.getByLabel('Add a module').fill('Module to delete');
    await checked.navigate(() => page.getByRole('button', { name: 'Add module' }).click());
    await page.getByLabel('Lesson title').fill('Lesson to delete');
    await checked.navigate(() => page.getByRole('button', { name: /^Add lesson/ }).click());
    expect(new URL(page.url()).pathname).toMatch(/^\/author\/lessons\/\d+$/);
    const lessonPath = new URL(page.url()).pathname;
    await checked.navigate(() => page.getByRole('button', { name: 'Delete this lesson' }).click());
    expect(new URL(page.url()).pathname).toBe(`${lessonPath}/delete`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Are you sure you want to delete the lesson “Lesson to delete”?');
    await expect(page.locator('#deletion-items').textContent()).resolves.toContain('from the module “Module to delete”');
    await checked.screenshot('authoring-delete-lesson');
    // "No, go back" deletes nothing.
    await checked.navigate(() => page.getByRole('link', { name: 'No, go back' }).click());
    expect(new URL(page.url()).pathname).toBe(lessonPath);
    await checked.navigate(() => page.getByRole('button', { name: 'Delete this lesson' }).click());
    await checked.navigate(() => page.getByRole('button', { name: 'Yes, delete this lesson' }).click());
    expect(new URL(page.url()).pathname).toBe(coursePage);
    await expect(page.locator('main').textContent()).resolves.toContain('Lesson deleted.');
    await expect(page.locator('main').textContent()).resolves.not.toContain('Lesson to delete');
    checked.assertNoProblems();
  }));
});
