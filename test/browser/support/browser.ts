import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { Browser, BrowserContext, chromium, ConsoleMessage, Page, Response } from 'playwright-core';

export const SCREENSHOTS_DIR = join(__dirname, '..', 'screenshots');

/** Headless Chromium from the system (CHROMIUM_PATH, default /usr/bin/chromium): the tests never download a browser. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The error an aborted external request gets, and Chromium's name for it. */
const OFFLINE_ERROR = 'ERR_INTERNET_DISCONNECTED';

/**
 * BROWSER_TEST_IGNORE: a regular expression; console errors, CSP violations and failed requests matching it are
 * tolerated (listed as a warning at the end of the test) instead of failing the test. For a known app bug that is
 * being fixed elsewhere; unset by default.
 */
const IGNORE = process.env.BROWSER_TEST_IGNORE ? new RegExp(process.env.BROWSER_TEST_IGNORE) : null;

/** The WCAG 2.0, 2.1 and 2.2 A/AA rules (the level the NHS service standard asks for). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Runs axe on the page as it is now and throws, listing every violation, if there is any. */
export async function checkAccessibility(page: Page, label = page.url()): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  if (results.violations.length === 0) return;
  const lines = results.violations.map((violation) => {
    const nodes = violation.nodes.map((node) => `      - ${node.target.map(String).join(' ')}\n        ${node.html.replace(/\s+/g, ' ').slice(0, 300)}`);
    return `  • ${violation.id} [${violation.impact ?? 'n/a'}]: ${violation.help}\n    ${violation.helpUrl}\n${nodes.join('\n')}`;
  });
  throw new Error(`Accessibility violations (axe, ${AXE_TAGS.join(', ')}) on ${label}:\n${lines.join('\n')}`);
}

/**
 * axe on a page of a context with JavaScript turned off: Chromium runs no timers there, so axe cannot run in it.
 * The page's document as it is now is loaded at the same address in a fresh context of the same browser, where
 * axe can run but the page's own scripts cannot (a `script-src 'none'` policy) and `<noscript>` content is shown,
 * as a person without JavaScript sees it.
 */
async function checkAccessibilityWithoutScripts(page: Page, label: string): Promise<void> {
  const url = page.url();
  const html = (await page.content()).replace(/<(\/?)noscript\b/gi, '<$1div');
  const browser = page.context().browser();
  if (!browser) throw new Error('checkAccessibilityWithoutScripts needs a page of a launched browser');
  const mirrorContext = await browser.newContext({ viewport: page.viewportSize() ?? undefined, locale: 'en-GB' });
  try {
    const mirror = await mirrorContext.newPage();
    const origin = new URL(url).origin;
    await mirror.route(
      (u) => u.href === url,
      (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'content-security-policy': "script-src 'none'" }, body: html }),
    );
    await mirror.route(
      (u) => u.origin !== origin && /^https?:$/.test(u.protocol),
      (route) => route.abort('internetdisconnected'),
    );
    await mirror.goto(url, { waitUntil: 'load' });
    await checkAccessibility(mirror, `${label} (without JavaScript)`);
  } finally {
    await mirrorContext.close();
  }
}

const checkedPages = new WeakMap<BrowserContext, Map<Page, CheckedPage>>();

/**
 * A page whose every load is checked: after each navigation the journey awaits (goto, or an action that
 * navigates), it runs axe and fails if the browser logged a console error, an uncaught script error,
 * a Content-Security-Policy violation or a failed sub-resource since the last check.
 */
export class CheckedPage {
  /** Problems seen since the last check (console errors, page errors, CSP violations, failed requests). */
  private problems: string[] = [];
  /** Problems matched by BROWSER_TEST_IGNORE, reported as a warning instead of failing. */
  readonly ignored: string[] = [];
  /**
   * Requests to other origins. The test machine is offline, so they are answered with a network error
   * (not sent) and their failure is not counted as a problem; the test can assert which origins the pages use.
   */
  readonly externalRequests: string[] = [];
  /** Every URL checked so far, in order, for the test to assert on the path taken. */
  readonly visited: string[] = [];
  /** The last main-frame document response that was not a redirect. */
  private lastDocument: Response | null = null;
  /** The status of every main-frame document, by URL. */
  private readonly documentStatus = new Map<string, number>();
  /** Chromium's "Failed to load resource: … status of N" lines, kept until the check can tell a document's from a sub-resource's. */
  private statusMessages: Array<{ url: string; text: string }> = [];

  private constructor(
    readonly page: Page,
    private readonly baseUrl: string,
    /** The context was made with `javaScriptEnabled: false` (see checkAccessibilityWithoutScripts). */
    private readonly withoutJavaScript = false,
  ) {
    const external = (url: string) => /^https?:/.test(url) && new URL(url).origin !== new URL(baseUrl).origin;
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      const where = message.location().url;
      // Chromium's own line for an external request the test aborted (see externalRequests).
      if (text.includes(`net::${OFFLINE_ERROR}`) && external(where)) return;
      // Reported, with its directive and source, by the securitypolicyviolation listener below.
      if (/Content Security Policy/.test(text)) return;
      // A form sent back with errors is a 4xx document on purpose; judged in assertNoProblems, once its response is known.
      if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) {
        this.statusMessages.push({ url: where, text: `console error: ${text}${locationOf(message)}` });
        return;
      }
      this.problem(`console error: ${text}${locationOf(message)}`);
    });
    page.on('pageerror', (error) => this.problem(`uncaught error: ${error.stack ?? error.message}`));
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText ?? 'unknown';
      if (external(request.url()) && reason.includes(OFFLINE_ERROR)) return;
      if (reason === 'csp') return; // reported by the securitypolicyviolation listener
      // A media element cancels its own range requests when it has buffered enough, seeks or its page unloads;
      // a video that really fails to load answers with a status (counted below) or another network error.
      if (request.resourceType() === 'media' && reason === 'net::ERR_ABORTED') return;
      // Likewise an event stream (live questions) is cut off by design when its page navigates away.
      if (request.resourceType() === 'eventsource' && reason === 'net::ERR_ABORTED') return;
      this.problem(`request failed: ${request.method()} ${request.url()} (${reason})`);
    });
    page.on('response', (response: Response) => {
      const request = response.request();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame() && !(response.status() >= 300 && response.status() < 400)) {
        this.lastDocument = response;
        this.documentStatus.set(response.url(), response.status());
      }
      // The document itself may be a 4xx on purpose (a form with errors); its sub-resources never should.
      if (response.status() >= 400 && response.request().resourceType() !== 'document') {
        this.problem(`sub-resource ${response.status()}: ${response.request().method()} ${response.url()}`);
      }
    });
  }

  /**
   * Opens a new checked page in `context` (which may hold several). Pass `javaScriptEnabled: false` when the
   * context was made so: its pages' checks then wait for no script and run axe on a copy of the page.
   */
  static async open(context: BrowserContext, baseUrl: string, options: { javaScriptEnabled?: boolean } = {}): Promise<CheckedPage> {
    let pages = checkedPages.get(context);
    if (!pages) {
      const known = new Map<Page, CheckedPage>();
      checkedPages.set(context, (pages = known));
      // Every CSP violation (a blocked script, style, font, image, connection…) is reported with its directive and source.
      // Bindings and init scripts are not subject to the page's CSP.
      await context.exposeBinding('__academyCspViolation', ({ page }, text: string) => known.get(page)?.problem(`CSP violation: ${text}`));
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          const source = event.sourceFile ? ` (${event.sourceFile}:${event.lineNumber})` : '';
          const report = (window as unknown as { __academyCspViolation?: (text: string) => void }).__academyCspViolation;
          report?.(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline code'} on ${event.documentURI}${source}`);
        });
      });
    }
    const page = await context.newPage();
    const checked = new CheckedPage(page, baseUrl, options.javaScriptEnabled === false);
    pages.set(page, checked);
    const origin = new URL(baseUrl).origin;
    await page.route(
      (url) => url.origin !== origin && /^https?:$/.test(url.protocol),
      (route) => {
        checked.externalRequests.push(route.request().url());
        return route.abort('internetdisconnected');
      },
    );
    return checked;
  }

  private problem(text: string) {
    if (IGNORE && IGNORE.test(text)) this.ignored.push(text);
    else this.problems.push(text);
  }

  /** Opens a path of the app (or an absolute URL) and checks the page. */
  async goto(path: string, options: { expectStatus?: number } = {}): Promise<Response | null> {
    this.lastDocument = null;
    const response = await this.page.goto(new URL(path, this.baseUrl).toString(), { waitUntil: 'load' });
    if (options.expectStatus !== undefined && response?.status() !== options.expectStatus) {
      throw new Error(`GET ${path} answered ${response?.status()}, expected ${options.expectStatus}`);
    }
    await this.check();
    return response;
  }

  /** Runs an action that loads a new document in the page (click a link, submit a form), waits for it to load, then checks the page. */
  async navigate(action: () => Promise<unknown>): Promise<Response | null> {
    const main = this.page.mainFrame();
    const committed = this.page.waitForEvent('framenavigated', { predicate: (frame) => frame === main, timeout: 30_000 });
    this.lastDocument = null;
    await action();
    await committed;
    await this.page.waitForLoadState('load');
    await this.check();
    return this.lastDocument;
  }

  /** axe plus the console/CSP/network problems collected since the last check. */
  async check(): Promise<void> {
    const label = this.page.url();
    this.visited.push(label);
    if (this.withoutJavaScript) {
      this.assertNoProblems(label);
      await checkAccessibilityWithoutScripts(this.page, label);
      return;
    }
    // Let late console messages (for example from module scripts) arrive before judging.
    await this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
    this.assertNoProblems(label);
    await checkAccessibility(this.page, label);
  }

  assertNoProblems(label = this.page.url()): void {
    for (const { url, text } of this.statusMessages) if (!((this.documentStatus.get(url) ?? 0) >= 400)) this.problem(text);
    this.statusMessages = [];
    const problems = this.problems;
    this.problems = [];
    if (problems.length) throw new Error(`Browser problems on ${label}:\n${problems.map((p) => `  • ${p}`).join('\n')}`);
  }

  /** A full-page PNG in test/browser/screenshots/NAME.png, for a person to look at. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const path = join(SCREENSHOTS_DIR, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }
}

function locationOf(message: ConsoleMessage): string {
  const { url, lineNumber } = message.location();
  return url ? ` (${url}:${lineNumber})` : '';
}
