import { Browser, BrowserContext } from 'playwright-core';
import { CheckedPage, checkAccessibility, launchBrowser } from './support/browser';

/**
 * The harness checks itself, on made-up pages served by the browser (no academy server): a green journey must mean
 * axe ran and the console, script-error, CSP and network listeners were listening.
 */
describe('browser test harness', () => {
  const ORIGIN = 'http://harness.test';
  const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' https://assets.nhs.uk";
  const PAGES: Record<string, { status?: number; body: string; type?: string }> = {
    '/good': { body: '<!DOCTYPE html><html lang="en"><head><title>Good</title></head><body><main><h1>Good</h1><p>Fine.</p></main></body></html>' },
    '/form-with-errors': { status: 400, body: '<!DOCTYPE html><html lang="en"><head><title>Error: Form</title></head><body><main><h1>Form</h1></main></body></html>' },
    '/bad-script': { body: '<!DOCTYPE html><html lang="en"><head><title>Bad</title><script src="/throws.js"></script></head><body><main><h1>Bad</h1><script>window.inline = 1</script><img src="/missing.png" alt=""></main></body></html>' },
    '/throws.js': { type: 'text/javascript', body: 'console.error("something broke"); throw new Error("boom");' },
    '/inaccessible': { body: '<!DOCTYPE html><html lang="en"><head><title>Inaccessible</title></head><body><main><h1>Inaccessible</h1><a href="/good"></a></main></body></html>' },
  };

  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext();
    await context.route(`${ORIGIN}/**`, (route) => {
      const page = PAGES[new URL(route.request().url()).pathname];
      if (!page) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
      return route.fulfill({ status: page.status ?? 200, contentType: page.type ?? 'text/html; charset=utf-8', headers: { 'content-security-policy': CSP }, body: page.body });
    });
  });
  afterEach(async () => {
    await context?.close();
  });

  it('passes a clean page, and a form sent back with a 4xx on purpose', async () => {
    const checked = await CheckedPage.open(context, ORIGIN);
    await checked.goto('/good', { expectStatus: 200 });
    await checked.navigate(() => checked.page.evaluate(() => (location.href = '/form-with-errors')));
    expect(checked.visited).toEqual([`${ORIGIN}/good`, `${ORIGIN}/form-with-errors`]);
  });

  it('fails on console errors, uncaught errors, CSP violations and missing sub-resources', async () => {
    const checked = await CheckedPage.open(context, ORIGIN);
    const failure = await checked.goto('/bad-script').then(
      () => null,
      (err: Error) => err.message,
    );
    expect(failure).toContain('console error: something broke');
    expect(failure).toContain('uncaught error: Error: boom');
    expect(failure).toMatch(/CSP violation: script-src-elem blocked inline/);
    expect(failure).toContain(`sub-resource 404: GET ${ORIGIN}/missing.png`);
  });

  it('answers external requests as offline without counting them as problems, and lists them', async () => {
    const checked = await CheckedPage.open(context, ORIGIN);
    await checked.goto('/good');
    await checked.page.evaluate(() => fetch('https://assets.nhs.uk/example.css').catch(() => undefined));
    await checked.check();
    expect(checked.externalRequests).toEqual(['https://assets.nhs.uk/example.css']);
  });

  it('fails with a readable list of axe violations', async () => {
    const checked = await CheckedPage.open(context, ORIGIN);
    await expect(checked.goto('/inaccessible')).rejects.toThrow(/link-name \[serious\]: Links must have discernible text[\s\S]*<a href="\/good"><\/a>/);
    await expect(checkAccessibility(checked.page)).rejects.toThrow(/Accessibility violations/);
  });
});
