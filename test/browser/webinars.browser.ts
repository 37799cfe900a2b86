import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, Request, Response } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { until, withServerOutput, signUpThroughForm } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * The webinar journey in a real browser: an author schedules and publishes a webinar that starts in about ten
 * minutes (so its join window is open); learner A registers, downloads the calendar invitation and sees the join
 * link; in the live Q&A, learner B sees A's question arrive over the event stream without reloading and upvotes
 * it, and A sees the vote arrive the same way; then A watches the recording of the demo past webinar until the
 * server credits it, and finds the certificate of attendance in My certificates and on its verification page.
 * axe and the console, CSP and network checks run on every page on the way.
 *
 * The author is the demo author: the seeder prints the demo accounts' one-time passwords when the server first
 * starts with DEMO_DATA=true. The past webinar with a recording comes from src/demo/content/webinars/*.json.
 * Nothing is faked: the recording's heartbeats come from public/js/video-tracking.js watching a playing <video>,
 * so the server's allowance (2x real time) applies.
 */

interface DemoWebinar { slug: string; title: string; startsInDays: number; durationMinutes: number; recording?: string }

const WEBINARS_DIR = join(__dirname, '..', '..', 'src', 'demo', 'content', 'webinars');
const DEMO_WEBINARS: DemoWebinar[] = readdirSync(WEBINARS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(WEBINARS_DIR, f), 'utf8')) as DemoWebinar);
/** The demo past webinar whose recording is the demo video. */
const RECORDED = DEMO_WEBINARS.find((w) => w.recording && w.startsInDays < 0);

const MEETING_URL = 'https://meet.example.org/demo-room';
const PASSWORD = 'correct horse battery staple';
const TITLE = 'Safety huddle: running a clinical risk review';
const BOLD_QUESTION = 'Is <b>bold</b> shown as typed?';

/** London wall-clock date (YYYY-MM-DD) and time (HH:MM) of `date`, as the authoring form takes them. */
function londonFields(date: Date): { date: string; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('webinars (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const checkedPages: CheckedPage[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.stop();
  });

  afterEach(() => {
    for (const checked of checkedPages) {
      if (checked.ignored.length) console.warn(`Tolerated because of BROWSER_TEST_IGNORE:\n${[...new Set(checked.ignored)].join('\n')}`);
      // The pages may use the NHS design system's asset host, and nothing else outside the academy (not the meeting).
      for (const url of checked.externalRequests) expect(url).toMatch(/^https:\/\/assets\.nhs\.uk\//);
    }
  });

  const pathOf = (url: string) => new URL(url).pathname;

  /** A new browser (context) with one checked page, as a different person. */
  async function person(): Promise<CheckedPage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', acceptDownloads: true });
    contexts.push(context);
    const checked = await CheckedPage.open(context, server.baseUrl);
    checked.page.setDefaultTimeout(15_000);
    checkedPages.push(checked);
    return checked;
  }

  /** Marks the document now in `page`; `sameDocument` later says whether the page has not loaded another since. */
  const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __journeyMark?: boolean }).__journeyMark = true));
  const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __journeyMark?: boolean }).__journeyMark === true);

  async function signUp(checked: CheckedPage, name: string, email: string): Promise<void> {
    await signUpThroughForm(checked, { name, email, password: PASSWORD, organisation: 'Bradford Teaching Hospitals NHS Foundation Trust', jobRole: 'Clinical safety officer' });
    expect(pathOf(checked.page.url())).toBe('/my-learning');
  }

  /** Opens the webinar from the list of upcoming webinars and registers. */
  async function findAndRegister(checked: CheckedPage, slug: string): Promise<void> {
    const { page } = checked;
    await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Webinars' }).click());
    expect(pathOf(page.url())).toBe('/webinars');
    const card = page.locator('.academy-course-list > li').filter({ has: page.getByRole('link', { name: TITLE, exact: true }) });
    await expect(card.count()).resolves.toBe(1);
    await expect(card.textContent()).resolves.toMatch(/\b\d+ places? left\b/);
    await checked.navigate(() => card.getByRole('link', { name: TITLE, exact: true }).click());
    expect(pathOf(page.url())).toBe(`/webinars/${slug}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(TITLE);
    await checked.navigate(() => page.getByRole('button', { name: 'Register for this webinar' }).click());
    expect(pathOf(page.url())).toBe(`/webinars/${slug}`);
    await expect(page.locator('.nhsuk-notification-banner').textContent()).resolves.toContain('You have a place at this webinar.');
    await expect(page.locator('main').textContent()).resolves.toContain('You have a place.');
    await expect(page.getByRole('button', { name: 'Register for this webinar' }).count()).resolves.toBe(0);
  }

  /** Counts the `questions` events the page's event streams receive (seen through the DevTools protocol, not the page). */
  async function followEventStream(page: Page): Promise<{ count: () => number }> {
    const cdp = await page.context().newCDPSession(page);
    let frames = 0;
    cdp.on('Network.eventSourceMessageReceived', (event) => {
      if (event.eventName === 'questions') frames++;
    });
    await cdp.send('Network.enable');
    return { count: () => frames };
  }

  /** The live page's question (an item of #question-list) whose text contains `text`. */
  const questionItem = (page: Page, text: string) => page.locator('#question-list > li').filter({ hasText: text });

  it('runs on the engines the environment names', () => {
    expect(server.health.database?.engine).toBe(process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    expect(server.health.redis?.status).toBe(process.env.REDIS_URL ? 'up' : 'not configured');
  });

  it('has a demo past webinar with the demo video as its recording', () => {
    expect(RECORDED).toBeDefined();
  });

  it('schedules, registers, downloads the invitation, opens the join link, asks and upvotes live, watches the recording and earns the certificate', () => withServerOutput(server, async () => {
    // ---- The author schedules a webinar starting in about ten minutes and publishes it. ----------------------
    const credentials = /^\s*author\s+(\S+@\S+)\s+(\S+)\s*$/m.exec(server.output());
    if (!credentials) throw new Error('The server did not print the demo author account (DEMO_DATA=true prints the demo accounts at the first start)');
    const author = await person();
    {
      const { page } = author;
      await author.goto('/sign-in', { expectStatus: 200 });
      await page.getByLabel('E-mail address').fill(credentials[1]);
      await page.getByLabel('Password').fill(credentials[2]);
      await author.navigate(() => page.getByRole('button', { name: 'Sign in', exact: true }).click());
      expect(pathOf(page.url())).not.toBe('/sign-in');

      await author.goto('/author/webinars/new', { expectStatus: 200 });
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Schedule a webinar');
      // Ten minutes from the next whole minute, in UK wall-clock time: inside the join window (15 minutes before).
      const start = londonFields(new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 10 * 60_000));
      await page.getByLabel('Title', { exact: true }).fill(TITLE);
      await page.getByLabel('Summary', { exact: true }).fill('A short live session on reviewing a clinical risk log together, with time for questions.');
      await page.getByLabel('Description (optional)').fill('We review **three** hazards from a real log and take your questions.');
      await page.getByLabel('Presenters', { exact: true }).fill('Dr Ruth Adeyemi, Clinical safety officer, acute hospital trust');
      await page.getByLabel('Date', { exact: true }).fill(start.date);
      await page.getByLabel('Start time (UK time)').fill(start.time);
      await page.getByLabel('Length in minutes').fill('60');
      await page.getByLabel('Places', { exact: true }).fill('10');
      await page.getByLabel('Meeting link (optional)').fill(MEETING_URL);
      await page.getByLabel('CPD hours').fill('1');
      await page.getByLabel('Minimum attendance in minutes').fill('45');
      const created = await author.navigate(() => page.getByRole('button', { name: 'Create webinar' }).click());
      expect(created?.status()).toBe(200);
      expect(pathOf(page.url())).toMatch(/^\/author\/webinars\/\d+$/);
      await expect(page.locator('main').textContent()).resolves.toContain('Webinar created as a draft.');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(TITLE);

      await author.navigate(() => page.getByRole('button', { name: 'Publish this webinar' }).click());
      await expect(page.locator('main').textContent()).resolves.toContain('The webinar is published: learners can find it and register.');
      await expect(page.locator('main').textContent()).resolves.toContain('0 of 10 places taken');
      await author.screenshot('webinar-authoring-published');
    }
    const viewLink = author.page.getByRole('link', { name: new RegExp(`^View the webinar's page`) });
    const slug = (await viewLink.getAttribute('href'))!.replace(/^\/webinars\//, '');
    expect(slug).toMatch(/^[a-z0-9-]+$/);
    const webinarPath = `/webinars/${slug}`;

    // ---- Learner A signs up, finds the webinar, registers and downloads the calendar invitation. --------------
    const a = await person();
    await signUp(a, 'Amira Learner', `webinars.a.${Date.now()}.${process.pid}@example.nhs.uk`);
    await findAndRegister(a, slug);
    {
      const { page } = a;
      const calendarLink = page.getByRole('link', { name: /^Add to calendar/ });
      await expect(calendarLink.getAttribute('href')).resolves.toBe(`${webinarPath}/calendar.ics`);
      const [download] = await Promise.all([page.waitForEvent('download'), calendarLink.click()]);
      expect(download.suggestedFilename()).toBe(`${slug}.ics`);
      expect(await download.failure()).toBeNull();
      const ics = readFileSync((await download.path())!, 'utf8');
      expect(ics).toMatch(/^BEGIN:VCALENDAR\r?\n/);
      expect(ics).toMatch(/^METHOD:REQUEST\r?$/m);
      expect(ics).toMatch(/^UID:\S*registration\S*\r?$/m);
      expect(ics).toContain('END:VCALENDAR');

      // The join window is open (the start is under 15 minutes away): the link goes through the academy, which
      // records the join and sends the learner on to the meeting. The meeting itself is not opened.
      const join = page.getByRole('button', { name: 'Join the webinar' });
      await expect(join.count()).resolves.toBe(1);
      const joinHref = (await join.getAttribute('href'))!;
      expect(joinHref).toBe(`${webinarPath}/join`);
      const joined = await page.request.get(new URL(joinHref, server.baseUrl).toString(), { maxRedirects: 0 });
      expect(joined.status()).toBe(303);
      expect(joined.headers()['location']).toBe(MEETING_URL);
      await a.screenshot('webinar-registered');
    }

    // ---- Learner B signs up, registers and opens the live questions. ----------------------------------------
    const b = await person();
    await signUp(b, 'Ben Learner', `webinars.b.${Date.now()}.${process.pid}@example.nhs.uk`);
    await findAndRegister(b, slug);
    const framesToB = await followEventStream(b.page);
    await b.navigate(() => b.page.getByRole('link', { name: 'Ask a question and vote in the live Q&A' }).click());
    expect(pathOf(b.page.url())).toBe(`${webinarPath}/live`);
    await expect(b.page.locator('#questions-empty').isVisible()).resolves.toBe(true);
    // The live list follows the event stream: wait for its first frame (the list as it is) before anything is asked.
    await until('the first frame of the question stream', () => framesToB.count() >= 1, 15_000);
    await markDocument(b.page);

    // ---- A asks a question; B sees it arrive without reloading, and upvotes it; A sees the vote arrive. ------
    const question = 'How often should the hazard log be reviewed after go-live?';
    {
      const { page } = a;
      await a.navigate(() => page.getByRole('link', { name: 'Ask a question and vote in the live Q&A' }).click());
      expect(pathOf(page.url())).toBe(`${webinarPath}/live`);
      await page.getByLabel('Ask a question').fill(question);
      await a.navigate(() => page.getByRole('button', { name: 'Send question' }).click());
      expect(pathOf(page.url())).toBe(`${webinarPath}/live`);
      const mine = questionItem(page, question);
      await expect(mine.count()).resolves.toBe(1);
      await expect(mine.textContent()).resolves.toMatch(/Asked by .+ \(you\) · 0 votes/);
      // No vote on one's own question.
      await expect(mine.getByRole('button', { name: /^Upvote/ }).count()).resolves.toBe(0);
      await markDocument(page);
    }
    {
      const { page } = b;
      const theirs = questionItem(page, question);
      await theirs.waitFor({ timeout: 15_000 });
      expect(await sameDocument(page)).toBe(true);
      expect(framesToB.count()).toBeGreaterThanOrEqual(2);
      await expect(page.locator('#questions-empty').isHidden()).resolves.toBe(true);
      await expect(theirs.textContent()).resolves.toMatch(/· 0 votes/);
      await until('the update to be announced', async () => (await page.locator('#questions-status').textContent()) === 'Questions updated', 5_000);
      b.assertNoProblems();
      await b.screenshot('webinar-live-question-arrived');

      await b.navigate(() => theirs.getByRole('button', { name: /^Upvote/ }).click());
      expect(pathOf(page.url())).toBe(`${webinarPath}/live`);
      const voted = questionItem(page, question);
      await expect(voted.textContent()).resolves.toMatch(/· 1 vote\b/);
      await expect(voted.textContent()).resolves.toContain('You voted for this');
      await expect(voted.getByRole('button', { name: /^Upvote/ }).count()).resolves.toBe(0);
      await markDocument(page);
    }
    {
      const { page } = a;
      await until('the vote to reach learner A live', async () => /· 1 vote\b/.test((await questionItem(page, question).textContent()) ?? ''), 15_000);
      expect(await sameDocument(page)).toBe(true);
      a.assertNoProblems();

      // Markup in a question is shown as the text typed, on the server's page and in the live update.
      await page.getByLabel('Ask a question').fill(BOLD_QUESTION);
      await a.navigate(() => page.getByRole('button', { name: 'Send question' }).click());
      const bold = questionItem(page, BOLD_QUESTION);
      await expect(bold.count()).resolves.toBe(1);
      await expect(bold.locator('p').first().textContent()).resolves.toBe(BOLD_QUESTION);
      await expect(page.locator('#question-list b').count()).resolves.toBe(0);
      // Most votes first.
      await expect(page.locator('#question-list > li').first().textContent()).resolves.toContain(question);
    }
    {
      const { page } = b;
      const bold = questionItem(page, BOLD_QUESTION);
      await bold.waitFor({ timeout: 15_000 });
      expect(await sameDocument(page)).toBe(true);
      await expect(bold.locator('p').first().textContent()).resolves.toBe(BOLD_QUESTION);
      await expect(page.locator('#question-list b').count()).resolves.toBe(0);
      b.assertNoProblems();
      await b.screenshot('webinar-live-questions');
    }

    // The author sees both questions on the webinar's authoring page, and two of ten places taken.
    await author.navigate(() => author.page.reload());
    await expect(author.page.locator('main').textContent()).resolves.toContain('2 of 10 places taken');
    await expect(author.page.locator('main').textContent()).resolves.toContain(question);

    // ---- A watches the demo past webinar's recording until the server credits it. -------------------------
    if (!RECORDED) throw new Error(`No demo webinar in ${WEBINARS_DIR} is in the past with a recording: the recording part of the journey cannot run`);
    const { page } = a;
    const main = page.locator('main');
    await a.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Webinars' }).click());
    await a.navigate(() => page.getByRole('navigation', { name: 'Upcoming or past webinars' }).getByRole('link', { name: 'Past' }).click());
    expect(page.url()).toBe(`${server.baseUrl}/webinars?when=past`);
    const card = page.locator('.academy-course-list > li').filter({ has: page.getByRole('link', { name: RECORDED.title, exact: true }) });
    await expect(card.count()).resolves.toBe(1);
    await expect(card.textContent()).resolves.toContain('Recording');
    await a.navigate(() => card.getByRole('link', { name: RECORDED.title, exact: true }).click());
    expect(pathOf(page.url())).toBe(`/webinars/${RECORDED.slug}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(RECORDED.title);
    const tag = page.locator('[data-completion-tag]');
    await expect(tag.textContent()).resolves.toBe('Watch most of the recording to earn the certificate');
    await expect(page.getByRole('link', { name: 'Download your certificate of attendance' }).count()).resolves.toBe(0);

    const beats: Array<{ from: number; to: number; status: number; coveredPercent?: number; credited?: boolean }> = [];
    let pendingBeats = 0;
    const isBeat = (request: Request) => request.method() === 'POST' && /^\/api\/v1\/webinars\/\d+\/recording\/heartbeat$/.test(pathOf(request.url()));
    page.on('request', (request) => {
      if (isBeat(request)) pendingBeats++;
    });
    page.on('response', async (response: Response) => {
      if (!isBeat(response.request())) return;
      const claim = response.request().postDataJSON() as { from: number; to: number };
      const body = (await response.json().catch(() => null)) as { coveredPercent?: number; credited?: boolean } | null;
      beats.push({ ...claim, status: response.status(), coveredPercent: body?.coveredPercent, credited: body?.credited });
      pendingBeats--;
    });

    const video = page.locator('video#recording-video');
    const duration = Number(await video.getAttribute('data-duration'));
    expect(duration).toBeGreaterThan(0);
    await video.evaluate(async (el: HTMLVideoElement) => {
      el.muted = true;
      await el.play();
    });
    // A few seconds at normal speed, then double speed (the fastest the server credits) until credited.
    await page.waitForFunction(() => (document.getElementById('recording-video') as HTMLVideoElement).currentTime >= 4, null, { timeout: 30_000 });
    await video.evaluate((el: HTMLVideoElement) => (el.playbackRate = 2));
    await page.waitForFunction(() => document.querySelector('[data-completion-tag]')?.classList.contains('nhsuk-tag--green'), null, { timeout: Math.max(60_000, duration * 1000) });
    await video.evaluate((el: HTMLVideoElement) => el.pause());
    await until('the last heartbeats to be answered', () => pendingBeats === 0);
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.every((beat) => beat.status === 200)).toBe(true);
    expect(beats.some((beat) => beat.credited)).toBe(true);
    const firstCredited = beats.find((beat) => beat.credited)!;
    expect(firstCredited.coveredPercent).toBeGreaterThanOrEqual(75);
    for (const beat of beats) expect(beat.to - beat.from).toBeLessThanOrEqual(22);
    a.assertNoProblems();
    await a.screenshot('webinar-recording-credited');

    // The page says so after a reload, and offers the certificate once the background job has issued it.
    const certificateLink = page.getByRole('link', { name: 'Download your certificate of attendance' });
    await until(
      'the certificate of attendance to be issued',
      async () => {
        await a.navigate(() => page.reload());
        return (await certificateLink.count()) === 1;
      },
      60_000,
    );
    await expect(tag.textContent()).resolves.toBe('Certificate earned');
    const [pdf] = await Promise.all([page.waitForEvent('download'), certificateLink.click()]);
    expect(pdf.suggestedFilename()).toMatch(new RegExp(`^Certificate .+ [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\\.pdf$`));
    expect(await pdf.failure()).toBeNull();

    // ---- My certificates lists it, and its verification page says it is valid. ----------------------------
    await a.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Certificates' }).click());
    expect(pathOf(page.url())).toBe('/my-certificates');
    const row = page.getByRole('row').filter({ hasText: RECORDED.title });
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toMatch(new RegExp(`Webinar: ${escapeRegExp(RECORDED.title)}`));
    await expect(row.textContent()).resolves.toContain('Valid');
    await a.navigate(() => row.getByRole('link', { name: /^Check [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/ }).click());
    expect(pathOf(page.url())).toMatch(/^\/verify\/[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This certificate is valid');
    await expect(main.textContent()).resolves.toContain(RECORDED.title);
    await expect(main.textContent()).resolves.toContain('Amira Learner');
    await a.screenshot('webinar-certificate-verified');
    for (const checked of [author, a, b]) checked.assertNoProblems();
  }), 360_000);
});
