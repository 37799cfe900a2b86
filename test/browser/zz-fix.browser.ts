import { CheckedPage, launchBrowser } from './support/browser';
import { startServer } from './support/server';
it('suggested CSP fix works offline', async () => {
  const [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  try {
    const context = await browser.newContext();
    await context.route(`${server.baseUrl}/**`, async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const response = await route.fetch({ maxRedirects: 0 });
      const headers = { ...response.headers() };
      headers['content-security-policy'] = headers['content-security-policy'].replace("font-src 'self' data:", "font-src 'self' data: https://assets.nhs.uk");
      return route.fulfill({ response, headers });
    });
    const checked = await CheckedPage.open(context, server.baseUrl);
    await checked.goto('/');
    await checked.goto('/sign-up');
    console.log(checked.externalRequests);
  } finally {
    await browser.close();
    await server.stop();
  }
});
