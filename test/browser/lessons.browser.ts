import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Request, Response } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { until, withServerOutput, signUpThroughForm } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * Issue 3's journey in a real browser, on the demo course about DCB0129 and DCB0160: search the catalogue,
 * enrol, start the course, read a text lesson, watch part of the video (the real player sends its heartbeats),
 * reload and resume where it stopped, watch on until the server counts it complete, download the resource,
 * pass the quiz, and see the course complete on the course page and in My learning. axe and the console,
 * CSP and network checks run on every page on the way.
 *
 * The test reads the course's JSON for the lesson order and the quiz answers. Nothing is faked: every
 * heartbeat comes from public/js/video-tracking.js watching a playing <video>, so the server's allowance (2x real
 * time) applies; the video plays at 1x first, then at 2x (the fastest a person may watch) to the end.
 */

interface DemoOption { text: string; correct: boolean }
interface DemoQuestion { prompt: string; multiple: boolean; options: DemoOption[] }
interface DemoLesson { kind: 'text' | 'video' | 'resource' | 'quiz'; title: string; required: boolean; durationSeconds?: number; fileName?: string; passMark?: number; questions?: DemoQuestion[] }
interface DemoCourse { slug: string; title: string; modules: Array<{ title: string; lessons: DemoLesson[] }> }

const COURSE: DemoCourse = JSON.parse(readFileSync(join(__dirname, '..', '..', 'src', 'demo', 'content', 'courses', 'clinical-safety-dcb0129-dcb0160.json'), 'utf8'));
const LESSONS = COURSE.modules.flatMap((m) => m.lessons);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A heartbeat the page's player sent, with the server's answer once it came. */
interface Beat { from: number; to: number; status?: number; coveredPercent?: number; lessonComplete?: boolean }

describe('lessons (browser)', () => {
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

  afterEach(() => {
    if (checked?.ignored.length) console.warn(`Tolerated because of BROWSER_TEST_IGNORE:\n${[...new Set(checked.ignored)].join('\n')}`);
    for (const url of checked?.externalRequests ?? []) expect(url).toMatch(/^https:\/\/assets\.nhs\.uk\//);
  });

  const pathOf = (url: string) => new URL(url).pathname;

  it('runs on the engines the environment names', () => {
    expect(server.health.database?.engine).toBe(process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    expect(server.health.redis?.status).toBe(process.env.REDIS_URL ? 'up' : 'not configured');
  });

  it('uses a Chromium that can play the demo video (H.264 and AAC in MP4)', async () => {
    const page = await browser.newPage();
    try {
      const answer = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
      // Chromium builds without the proprietary codecs answer '': the video step of the journey cannot run there.
      if (answer === '') throw new Error(`This Chromium (${browser.version()}) cannot play H.264/AAC MP4, so the video lesson cannot be watched honestly`);
      expect(answer).toBe('probably');
    } finally {
      await page.close();
    }
  });

  it('searches, enrols, reads, watches and resumes the video, downloads, passes the quiz and completes the course', () => withServerOutput(server, async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', acceptDownloads: true });
    checked = await CheckedPage.open(context, server.baseUrl);
    const { page } = checked;
    page.setDefaultTimeout(15_000);
    const main = page.locator('main');
    const heading = () => page.getByRole('heading', { level: 1 }).textContent();

    // Every heartbeat the player sends, and what the server answered.
    const beats: Beat[] = [];
    let pendingBeats = 0;
    const isBeat = (request: Request) => request.method() === 'POST' && pathOf(request.url()) === '/api/v1/progress/heartbeat';
    page.on('request', (request) => {
      if (isBeat(request)) pendingBeats++;
    });
    page.on('response', async (response: Response) => {
      if (!isBeat(response.request())) return;
      const claim = response.request().postDataJSON() as { from: number; to: number };
      const beat: Beat = { from: claim.from, to: claim.to, status: response.status() };
      const body = (await response.json().catch(() => null)) as { coveredPercent?: number; lessonComplete?: boolean } | null;
      Object.assign(beat, { coveredPercent: body?.coveredPercent, lessonComplete: body?.lessonComplete });
      beats.push(beat);
      pendingBeats--;
    });

    // Sign up.
    await signUpThroughForm(checked, {
      name: 'Lesson Tester',
      email: `lessons.${Date.now()}.${process.pid}@example.nhs.uk`,
      password: 'correct horse battery staple',
      organisation: 'Calderdale and Huddersfield NHS Foundation Trust',
      jobRole: 'Clinical safety officer',
    });
    expect(pathOf(page.url())).toBe('/my-learning');

    // Search the catalogue and open the course.
    await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Courses' }).click());
    await page.getByLabel('Search').fill('DCB0160');
    await checked.navigate(() => page.getByRole('button', { name: 'Show courses' }).click());
    const card = page.locator('.academy-course-list > li').filter({ has: page.getByRole('link', { name: COURSE.title, exact: true }) });
    await expect(card.count()).resolves.toBe(1);
    await checked.navigate(() => card.getByRole('link', { name: COURSE.title, exact: true }).click());
    expect(pathOf(page.url())).toBe(`/courses/${COURSE.slug}`);
    await expect(heading()).resolves.toBe(COURSE.title);

    // Enrol and start.
    await checked.navigate(() => page.getByRole('button', { name: 'Enrol on this course' }).click());
    await expect(page.locator('#course-progress-label').textContent()).resolves.toMatch(/^0% complete/);
    await checked.navigate(() => page.getByRole('button', { name: 'Start the course' }).click());

    for (const [index, lesson] of LESSONS.entries()) {
      expect(pathOf(page.url())).toMatch(new RegExp(`^/courses/${COURSE.slug}/lessons/\\d+$`));
      await expect(heading()).resolves.toBe(lesson.title);
      await expect(main.locator('.nhsuk-tag').first().textContent()).resolves.toBe('Not completed yet');
      const next = LESSONS[index + 1];

      if (lesson.kind === 'text') {
        // "Mark as complete" leads to the next lesson (the course page after the last one).
        await checked.navigate(() => page.getByRole('button', { name: 'Mark as complete' }).click());
        if (next) continue;
        expect(pathOf(page.url())).toBe(`/courses/${COURSE.slug}`);
        break;
      }

      if (lesson.kind === 'video') {
        const lessonUrl = page.url();
        const video = page.locator('video#lesson-video');
        await expect(video.getAttribute('data-resume-at')).resolves.toBe('0');
        await expect(page.locator('#video-coverage progress').evaluate((bar: HTMLProgressElement) => bar.value)).resolves.toBe(0);

        // Watch about 12 seconds at normal speed; the player reports every 10 seconds of continuous playing.
        const firstBeat = page.waitForResponse((r) => isBeat(r.request()), { timeout: 30_000 });
        await video.evaluate(async (el: HTMLVideoElement) => {
          el.muted = true;
          await el.play();
        });
        const accepted = await firstBeat;
        expect(accepted.status()).toBe(200);
        await until('the progress bar to move', () => page.locator('#video-coverage progress').evaluate((bar: HTMLProgressElement) => bar.value > 0));
        await page.waitForFunction(() => (document.getElementById('lesson-video') as HTMLVideoElement).currentTime >= 12, null, { timeout: 30_000 });
        const pausedAt = await video.evaluate((el: HTMLVideoElement) => {
          el.pause();
          return el.currentTime;
        });
        // Pausing reports the last stretch: wait until the server has it.
        await until('the heartbeat sent on pause', () => pendingBeats === 0 && beats.some((b) => Math.abs(b.to - pausedAt) < 1));
        expect(beats.every((b) => b.status === 200)).toBe(true);
        const watchedPercent = beats.at(-1)!.coveredPercent!;
        expect(watchedPercent).toBeGreaterThanOrEqual(Math.floor((10 / lesson.durationSeconds!) * 100));
        expect(beats.at(-1)!.lessonComplete).toBe(false);
        await checked.screenshot('lesson-video-watching');

        // Reload: the page knows where the learner stopped, and the player starts there.
        await checked.navigate(() => page.reload());
        expect(page.url()).toBe(lessonUrl);
        const resumeAt = Number(await video.getAttribute('data-resume-at'));
        expect(resumeAt).toBeGreaterThan(0);
        expect(Math.abs(resumeAt - pausedAt)).toBeLessThan(2);
        // The page counts whole seconds watched, the heartbeat's answer exact ones: they may differ by a point.
        const shownPercent = await page.locator('#video-coverage progress').evaluate((bar: HTMLProgressElement) => bar.value);
        expect(shownPercent).toBeGreaterThan(0);
        expect(Math.abs(shownPercent - watchedPercent)).toBeLessThanOrEqual(1);
        await page.waitForFunction(() => (document.getElementById('lesson-video') as HTMLVideoElement).readyState >= 1, null, { timeout: 30_000 });
        await until('the player to seek to the resume point', () => video.evaluate((el: HTMLVideoElement) => el.currentTime > 0), 10_000);
        const resumedAt = await video.evaluate((el: HTMLVideoElement) => el.currentTime);
        expect(Math.abs(resumedAt - pausedAt)).toBeLessThan(3);

        // Watch on, at double speed (the fastest the server credits), until the server counts the lesson complete.
        await video.evaluate(async (el: HTMLVideoElement) => {
          el.muted = true;
          el.playbackRate = 2;
          await el.play();
        });
        await page.waitForFunction(() => document.querySelector('main .nhsuk-tag')?.textContent === 'Completed', null, { timeout: 90_000 });
        await page.waitForFunction(() => (document.getElementById('lesson-video') as HTMLVideoElement).ended, null, { timeout: 30_000 });
        await until('the last heartbeats to be answered', () => pendingBeats === 0);
        expect(beats.every((b) => b.status === 200)).toBe(true);
        expect(beats.some((b) => b.lessonComplete)).toBe(true);
        // The player never reported more than it played: no stretch claims more than the time between beats allows.
        for (const beat of beats) expect(beat.to - beat.from).toBeLessThanOrEqual(12);
        await expect(page.locator('#video-coverage progress').evaluate((bar: HTMLProgressElement) => bar.value)).resolves.toBeGreaterThanOrEqual(90);
        checked.assertNoProblems();

        // The course page now offers to continue with the next lesson.
        await checked.navigate(() => page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: COURSE.title, exact: true }).click());
        expect(pathOf(page.url())).toBe(`/courses/${COURSE.slug}`);
        await expect(page.locator('#course-progress-label').textContent()).resolves.toMatch(new RegExp(`^${Math.floor(((index + 1) / LESSONS.length) * 100)}% complete`));
        await expect(page.getByRole('button', { name: `Continue: ${next!.title}` }).getAttribute('href')).resolves.toMatch(new RegExp(`^/courses/${COURSE.slug}/lessons/\\d+$`));
        const nextHref = await page.getByRole('button', { name: `Continue: ${next!.title}` }).getAttribute('href');
        // So does the home page: "continue where you left off", with the same progress and the same next lesson.
        await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Home' }).click());
        const resume = page.locator('#continue-learning');
        await expect(resume.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('Continue where you left off');
        await expect(resume.getByRole('link', { name: COURSE.title, exact: true }).count()).resolves.toBe(1);
        await expect(resume.locator('.academy-progress__label').textContent()).resolves.toMatch(new RegExp(`^${Math.floor(((index + 1) / LESSONS.length) * 100)}% complete`));
        await expect(resume.textContent()).resolves.toContain(`Next lesson: ${next!.title}`);
        await checked.screenshot('home-continue');
        await checked.navigate(() => resume.getByRole('button', { name: `Continue ${COURSE.title}` }).click());
        expect(pathOf(page.url())).toBe(nextHref);
        continue;
      }

      if (lesson.kind === 'resource') {
        const link = page.getByRole('button', { name: `Download ${lesson.fileName}` });
        const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
        expect(download.suggestedFilename()).toBe(lesson.fileName);
        expect(await download.failure()).toBeNull();
        // The download completed the lesson.
        await checked.navigate(() => page.reload());
        await expect(main.locator('.nhsuk-tag').first().textContent()).resolves.toBe('Completed');
        await checked.navigate(() => page.getByRole('navigation', { name: 'Lessons', exact: true }).getByRole('link', { name: new RegExp(`^Next\\W+${escapeRegExp(next!.title)}$`) }).click());
        continue;
      }

      if (lesson.kind === 'quiz') {
        for (const [n, question] of lesson.questions!.entries()) {
          const group = page.getByRole('group', { name: `${n + 1}. ${question.prompt}` });
          for (const option of question.options) if (option.correct) await group.getByLabel(option.text, { exact: true }).check();
        }
        await checked.navigate(() => page.getByRole('button', { name: 'Check my answers' }).click());
        await expect(page.locator('#quiz-result').getByRole('heading').textContent()).resolves.toBe('You passed: 100%');
        await expect(main.locator('.nhsuk-tag').first().textContent()).resolves.toBe('Completed');
        await expect(page.locator('#course-complete').getByRole('heading').textContent()).resolves.toBe('Course complete');
        await expect(page.getByRole('table').textContent()).resolves.toContain('Passed');
        await checked.screenshot('lesson-quiz-passed');
        expect(next).toBeUndefined();
      }
    }

    // The course page says so, and My learning lists it under Completed.
    await checked.navigate(() => page.locator('#course-complete').getByRole('link', { name: 'See your learning' }).click());
    expect(pathOf(page.url())).toBe('/my-learning');
    const completed = page.getByRole('heading', { name: 'Completed', level: 2 }).locator('xpath=following-sibling::*[1]');
    await expect(completed.getByRole('link', { name: COURSE.title, exact: true }).count()).resolves.toBe(1);
    await expect(main.getByText('You are not working on a course at the moment.').count()).resolves.toBe(1);

    await checked.navigate(() => completed.getByRole('link', { name: COURSE.title, exact: true }).click());
    expect(pathOf(page.url())).toBe(`/courses/${COURSE.slug}`);
    await expect(main.locator('.nhsuk-card--confirmation').getByRole('heading').textContent()).resolves.toBe('Course complete');
    await expect(page.getByRole('button', { name: /^(Start the course|Continue:)/ }).count()).resolves.toBe(0);
    for (const lesson of LESSONS) {
      await expect(main.getByRole('listitem').filter({ has: page.getByRole('link', { name: lesson.title, exact: true }) }).textContent()).resolves.toContain('completed');
    }
    await checked.screenshot('course-complete');

    // The certificate, issued in the background: its link appears on the course page (by itself when JavaScript
    // is on), the PDF downloads, and the public verification page says it is valid.
    const certificateLink = page.locator('#certificate-status').getByRole('link', { name: 'Download your certificate' });
    await certificateLink.waitFor({ timeout: 60_000 });
    const [pdf] = await Promise.all([page.waitForEvent('download'), certificateLink.click()]);
    expect(pdf.suggestedFilename()).toMatch(/^Certificate .+ [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\.pdf$/);
    expect(await pdf.failure()).toBeNull();
    await checked.navigate(() => page.locator('#certificate-status').getByRole('link', { name: 'Verification page' }).click());
    expect(pathOf(page.url())).toMatch(/^\/verify\/[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This certificate is valid');
    await expect(main.textContent()).resolves.toContain(COURSE.title);
    await checked.screenshot('certificate-verified');
    await checked.navigate(() => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Certificates' }).click());
    await expect(main.textContent()).resolves.toContain(COURSE.title);
    await expect(main.getByRole('heading', { name: 'Your CPD' }).count()).resolves.toBe(1);
    checked.assertNoProblems();
  }), 300_000);
});
