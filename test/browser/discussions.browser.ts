import { Browser, BrowserContext, Page } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { until, withServerOutput } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * Issue 15's journey in a real browser, on a server started with the demo content: two people of different
 * organisations in one course discussion. Priya Shah (the demo learner, Demo Community Health NHS Trust, enrolled
 * on the clinical safety course) asks a question through the form; Nadia Rahman (Demo Riverside GP Federation)
 * enrols through the course page and answers it, and the answer appears on Priya's open thread page without it
 * reloading (public/js/discussion-live.js on the thread's event stream); Priya accepts it and it is shown first,
 * after the question; Marcus Johnson (Demo Meadowbank Care) enrols and reports it; Ruth Adebayo, the demo moderator,
 * finds it in the discussions queue and hides it with a reason; Marcus's thread page then shows the placeholder, and
 * the administrator's audit log lists the hiding. A second journey, with JavaScript turned off, replies through the
 * plain form. Every page on the way is checked with axe (WCAG 2.2 AA) and must log no console error, script error or
 * CSP violation.
 *
 * The demo people are old, verified accounts that have accepted the code of conduct (src/demo/discussion-seeder.ts),
 * so their posts are shown at once. Their one-time passwords are printed when the server first starts with DEMO_DATA.
 */

const COURSE = { slug: 'clinical-safety-dcb0129-dcb0160', path: '/courses/clinical-safety-dcb0129-dcb0160' };
const PEOPLE = {
  priya: { name: 'Priya Shah', email: 'learner@demo.peer-academy.local', role: 'Learner', organisation: 'Demo Community Health NHS Trust' },
  nadia: { name: 'Nadia Rahman', email: 'nadia.rahman@riverside.demo.peer-academy.local', role: 'Organisation manager', organisation: 'Demo Riverside GP Federation' },
  marcus: { name: 'Marcus Johnson', email: 'marcus.johnson@meadowbank.demo.peer-academy.local', role: 'Organisation manager', organisation: 'Demo Meadowbank Care' },
  ruth: { email: 'ruth.adebayo@riverside.demo.peer-academy.local' },
  admin: { email: 'admin@demo.peer-academy.local' },
  manager: { email: 'manager@demo.peer-academy.local' },
};
const HIDDEN_PLACEHOLDER = 'This post was hidden by a moderator.';

const pathOf = (url: string) => new URL(url).pathname;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('discussions (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const checkedPages: CheckedPage[] = [];
  const stamp = `${Date.now().toString(36)}${process.pid}`;
  const title = `Does a new hazard log entry need a fresh safety case? ${stamp}`;
  /** Set by the first journey: the thread the second one replies to. */
  let threadPath: string | undefined;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.stop();
  });

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

  it('one asks in the course discussion, another organisation answers live, the asker accepts it, a third reports it and a moderator hides it', () =>
    withServerOutput(server, async () => {
      // ---- Priya asks a question in the course's discussion, from the course page. -------------------------
      const priya = await signedIn(PEOPLE.priya.email);
      const p = priya.page;
      await priya.goto(COURSE.path, { expectStatus: 200 });
      await priya.navigate(() => p.getByRole('link', { name: 'Go to the course discussion' }).click());
      const spacePath = pathOf(p.url());
      expect(spacePath).toMatch(/^\/discussions\/spaces\/\d+$/);
      await expect(p.locator('[data-subject-link]').getAttribute('href')).resolves.toBe(COURSE.path);
      // The course's entry address leads to the same space.
      const entry = await p.request.get(new URL(`${COURSE.path}/discussion`, server.baseUrl).toString(), { maxRedirects: 0 });
      expect(entry.status()).toBe(303);
      expect(entry.headers()['location']).toBe(spacePath);

      await priya.navigate(() => p.getByRole('button', { name: 'Start a thread' }).click());
      expect(pathOf(p.url())).toBe(`${spacePath}/new`);
      await p.getByLabel('A question').check();
      await p.getByLabel('Title').fill(title);
      await p.getByLabel('Your message').fill('We are adding **one new hazard** to a live system’s log after a near miss.\n\n- Is an updated safety case enough?\n- Or a new clinical safety case report?');
      // The thread page opens its event stream as soon as it loads: the reply below must come after it is open.
      const streamOpened = p.waitForResponse((r) => /^\/discussions\/threads\/\d+\/events$/.test(pathOf(r.url())), { timeout: 15_000 });
      await priya.navigate(() => p.getByRole('button', { name: 'Post the thread' }).click());
      threadPath = pathOf(p.url());
      expect(threadPath).toMatch(/^\/discussions\/threads\/\d+$/);
      await expect(heading(priya)).resolves.toBe(title);
      await expect(mainText(priya)).resolves.toContain('Your thread is posted.');
      const opening = p.locator('[data-top-posts] > li').first();
      await expect(opening.locator('.discussion-post__body strong').textContent()).resolves.toBe('one new hazard');
      await expect(opening.locator('.discussion-post__body li').count()).resolves.toBe(2);
      await expect(p.locator('main').getByText('Question', { exact: true }).count()).resolves.toBe(1);
      await expect(p.locator('[data-no-replies]').isVisible()).resolves.toBe(true);
      expect((await streamOpened).status()).toBe(200);
      await markDocument(p);
      const threadUrl = p.url();

      // ---- Nadia, of another organisation, enrols through the course page and answers. --------------------
      const nadia = await signedIn(PEOPLE.nadia.email);
      const n = nadia.page;
      await nadia.goto(COURSE.path, { expectStatus: 200 });
      // Not enrolled yet: the discussion is not offered, and its address is 404.
      await expect(n.getByRole('link', { name: 'Go to the course discussion' }).count()).resolves.toBe(0);
      await nadia.goto(threadPath, { expectStatus: 404 });
      await nadia.goto(COURSE.path, { expectStatus: 200 });
      await enrol(nadia);
      await nadia.navigate(() => n.getByRole('link', { name: 'Go to the course discussion' }).click());
      expect(pathOf(n.url())).toBe(spacePath);
      await nadia.navigate(() => n.locator('[data-threads]').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(n.url())).toBe(threadPath);
      const answer = 'An updated safety case report is enough if the hazard is **within the existing scope**; note the change in the report’s history.';
      await n.getByLabel('Your reply').fill(answer);
      await nadia.navigate(() => n.getByRole('button', { name: 'Post the reply' }).click());
      expect(pathOf(n.url())).toBe(threadPath);
      await expect(mainText(nadia)).resolves.toContain('Your reply is posted.');
      const replyId = Number(/#post-(\d+)$/.exec(n.url())?.[1]);
      expect(replyId).toBeGreaterThan(0);
      const replyOf = (page: Page) => page.locator(`#post-${replyId}`);
      await expect(replyOf(n).locator('[data-post-author]').textContent()).resolves.toContain(PEOPLE.nadia.name);

      // Who is in the thread: both, with their role and organisation.
      const participants = n.locator('[data-participants]');
      for (const who of [PEOPLE.priya, PEOPLE.nadia]) {
        const item = participants.locator('li').filter({ hasText: who.name });
        await expect(item.count()).resolves.toBe(1);
        await expect(item.textContent()).resolves.toMatch(new RegExp(`${escapeRegExp(who.role)}, ${escapeRegExp(who.organisation)}`));
        await expect(item.textContent()).resolves.toMatch(/@[a-z0-9-]+-\d+/);
      }

      // ---- Priya's open page shows the answer without reloading, and says so. -----------------------------
      await replyOf(p).waitFor({ timeout: 5_000 });
      expect(await sameDocument(p)).toBe(true);
      expect(p.url()).toBe(threadUrl);
      await expect(p.locator(`#discussion-replies > #post-${replyId}`).count()).resolves.toBe(1);
      await expect(replyOf(p).textContent()).resolves.toContain(PEOPLE.nadia.name);
      await expect(replyOf(p).locator('strong', { hasText: 'within the existing scope' }).count()).resolves.toBe(1);
      await expect(p.locator('[data-no-replies]').isHidden()).resolves.toBe(true);
      await expect(p.locator('#discussion-reply-count').textContent()).resolves.toBe('1');
      await until('the live reply to be announced', async () => (await p.locator('#discussion-live-status').textContent()) === `New reply from ${PEOPLE.nadia.name}`, 5_000);
      priya.assertNoProblems();
      await priya.screenshot('discussion-live-reply');

      // ---- Priya accepts it: it is shown as the accepted answer, first after the question. --------------
      await priya.navigate(() => p.reload());
      await priya.navigate(() => replyOf(p).getByRole('button', { name: /^Accept as the answer/ }).click());
      expect(pathOf(p.url())).toBe(threadPath);
      await expect(mainText(priya)).resolves.toContain('The reply is marked as the accepted answer.');
      const top = p.locator('[data-top-posts] > li');
      await expect(top.count()).resolves.toBe(2);
      await expect(top.nth(1).getAttribute('id')).resolves.toBe(`post-${replyId}`);
      await expect(top.nth(1).locator('[data-accepted]').textContent()).resolves.toBe('Accepted answer');
      await expect(replyOf(p).count()).resolves.toBe(1);
      await expect(p.locator('main').getByText('Answered', { exact: true }).count()).resolves.toBe(1);
      await priya.screenshot('discussion-accepted-answer');

      // ---- Marcus, of a third organisation, enrols and reports the answer. ------------------------------
      const marcus = await signedIn(PEOPLE.marcus.email);
      const m = marcus.page;
      await marcus.goto(COURSE.path, { expectStatus: 200 });
      await enrol(marcus);
      await marcus.navigate(() => m.getByRole('link', { name: 'Go to the course discussion' }).click());
      await marcus.navigate(() => m.locator('[data-threads]').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(m.url())).toBe(threadPath);
      await expect(replyOf(m).locator('[data-accepted]').count()).resolves.toBe(1);
      await marcus.navigate(() => replyOf(m).getByRole('link', { name: `Report the post by ${PEOPLE.nadia.name}` }).click());
      expect(pathOf(m.url())).toBe(`/discussions/posts/${replyId}/report`);
      await expect(heading(marcus)).resolves.toBe('Report a post');
      await m.getByLabel('Unsafe clinical or technical advice').check();
      const details = 'A new hazard can change the scope: this should say to check with the clinical safety officer first.';
      await m.getByLabel('Details').fill(details);
      await marcus.navigate(() => m.getByRole('button', { name: 'Send the report' }).click());
      expect(pathOf(m.url())).toBe(threadPath);
      expect(new URL(m.url()).hash).toBe(`#post-${replyId}`);
      await expect(m.getByRole('status').filter({ hasText: 'Thank you for your report.' }).count()).resolves.toBe(1);
      await markDocument(m);

      // ---- Ruth, the moderator, finds it in the queue and hides it with a reason. -----------------------
      const ruth = await signedIn(PEOPLE.ruth.email);
      const r = ruth.page;
      await ruth.goto('/moderation/discussions', { expectStatus: 200 });
      const row = r.locator(`#reported-posts tr[data-post="${replyId}"]`);
      await expect(row.count()).resolves.toBe(1);
      await expect(row.textContent()).resolves.toContain(title);
      await expect(row.textContent()).resolves.toContain('Unsafe clinical or technical advice');
      await expect(row.textContent()).resolves.toContain(`By ${PEOPLE.nadia.name}, ${PEOPLE.nadia.organisation}`);
      await ruth.navigate(() => row.locator('td').first().getByRole('link').click());
      expect(pathOf(r.url())).toBe(`/moderation/discussions/posts/${replyId}`);
      await expect(r.locator('#report-list').textContent()).resolves.toContain(details);
      await expect(r.locator('#report-list').textContent()).resolves.toContain(PEOPLE.marcus.name);
      const reason = 'Advice that may be unsafe for a new hazard: please check the scope with your clinical safety officer.';
      await r.getByLabel('Hide it: why?').fill(reason);
      await ruth.screenshot('discussion-moderator-hide');
      await ruth.navigate(() => r.getByRole('button', { name: 'Hide it', exact: true }).click());
      expect(pathOf(r.url())).toBe(`/moderation/discussions/posts/${replyId}`);
      await expect(mainText(ruth)).resolves.toContain('The post is hidden.');
      await expect(r.locator('#post-status').textContent()).resolves.toMatch(/hidden/i);
      await expect(r.locator('#post-facts').textContent()).resolves.toContain(reason);

      // ---- Marcus's open page hears that the thread changed; reloaded, it shows the placeholder. --------
      await m.locator('#discussion-live-changed').waitFor({ timeout: 5_000 });
      expect(await sameDocument(m)).toBe(true);
      marcus.assertNoProblems();
      await marcus.navigate(() => m.reload());
      // A hidden answer is no longer the accepted one: the question is open again, the placeholder is among the replies.
      await expect(m.locator(`#discussion-replies > #post-${replyId}`).count()).resolves.toBe(1);
      await expect(m.locator('[data-top-posts] > li').count()).resolves.toBe(1);
      await expect(m.locator('main').getByText('Question', { exact: true }).count()).resolves.toBe(1);
      await expect(m.locator('#discussion-reply-count').textContent()).resolves.toBe('0');
      await expect(replyOf(m).locator('[data-placeholder]').textContent()).resolves.toBe(HIDDEN_PLACEHOLDER);
      await expect(replyOf(m).textContent()).resolves.not.toContain('within the existing scope');
      await expect(replyOf(m).getByRole('link', { name: /^Report/ }).count()).resolves.toBe(0);
      await marcus.screenshot('discussion-hidden-placeholder');

      // ---- The administrator's audit log lists the hiding, by Ruth. ------------------------------------
      const admin = await signedIn(PEOPLE.admin.email);
      await admin.goto('/admin/audit?action=discussion.post.hidden', { expectStatus: 200 });
      const hidden = admin.page.locator('main tbody tr').filter({ hasText: 'Discussion post hidden by a moderator' });
      await expect(hidden.count()).resolves.toBeGreaterThanOrEqual(1);
      await expect(hidden.first().textContent()).resolves.toContain('Ruth Adebayo');

      for (const checked of checkedPages) checked.assertNoProblems();
    }), 300_000);

  it('without JavaScript, a member replies through the plain form and sees the reply after the redirect', () =>
    withServerOutput(server, async () => {
      if (!threadPath) throw new Error('The first journey did not start the thread');
      const member = await signedIn(PEOPLE.manager.email, { javaScript: false });
      const { page } = member;
      await member.goto(COURSE.path, { expectStatus: 200 });
      await expect(page.locator('body.js-enabled').count()).resolves.toBe(0);
      await enrol(member);
      await member.navigate(() => page.getByRole('link', { name: 'Go to the course discussion' }).click());
      await member.navigate(() => page.locator('[data-threads]').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(page.url())).toBe(threadPath);
      const text = `We log the change in the hazard log and the safety case report’s history, then review it at the next safety board (${stamp}).`;
      await page.getByLabel('Your reply').fill(text);
      await member.navigate(() => page.getByRole('button', { name: 'Post the reply' }).click());
      expect(pathOf(page.url())).toBe(threadPath);
      await expect(mainText(member)).resolves.toContain('Your reply is posted.');
      const postId = /#post-(\d+)$/.exec(page.url())?.[1];
      expect(postId).toBeDefined();
      const reply = page.locator(`#discussion-replies > #post-${postId}`);
      await expect(reply.locator('.discussion-post__body').textContent()).resolves.toContain(text);
      // The hidden answer is not counted.
      await expect(page.locator('#discussion-reply-count').textContent()).resolves.toBe('1');
      member.assertNoProblems();
    }), 180_000);

  // ---------------------------------------------------------------- helpers

  /** A browser of its own for the person, signed in with the demo password the server printed. */
  async function signedIn(email: string, options: { javaScript?: boolean } = {}): Promise<CheckedPage> {
    const password = new RegExp(`^\\s*\\S+\\s+${escapeRegExp(email)}\\s+(\\S+)\\s*$`, 'm').exec(server.output())?.[1];
    if (!password) throw new Error(`The server did not print the demo account ${email} (DEMO_DATA=true prints the demo accounts at the first start)`);
    const javaScriptEnabled = options.javaScript ?? true;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', javaScriptEnabled });
    contexts.push(context);
    const checked = await CheckedPage.open(context, server.baseUrl, { javaScriptEnabled });
    checked.page.setDefaultTimeout(15_000);
    checkedPages.push(checked);
    await checked.goto('/sign-in', { expectStatus: 200 });
    await checked.page.getByLabel('E-mail address').fill(email);
    await checked.page.getByLabel('Password').fill(password);
    await checked.navigate(() => checked.page.getByRole('button', { name: 'Sign in', exact: true }).click());
    expect(pathOf(checked.page.url())).not.toBe('/sign-in');
    return checked;
  }

  /** On the course page: enrols through its button, and the page then offers the discussion. */
  async function enrol(checked: CheckedPage): Promise<void> {
    const { page } = checked;
    await checked.navigate(() => page.getByRole('button', { name: 'Enrol on this course' }).click());
    expect(pathOf(page.url())).toBe(COURSE.path);
    await expect(page.getByRole('button', { name: 'Withdraw from this course' }).count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Go to the course discussion' }).count()).resolves.toBe(1);
  }

  /** Marks the document now in `page`; `sameDocument` later says whether the page has not loaded another since. */
  const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __journeyMark?: boolean }).__journeyMark = true));
  const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __journeyMark?: boolean }).__journeyMark === true);

  const heading = (checked: CheckedPage) => checked.page.getByRole('heading', { level: 1 }).textContent();
  const mainText = (checked: CheckedPage) => checked.page.locator('main').textContent().then((t) => t ?? '');
});
