import { DataSource } from 'typeorm';
import { Readiness } from '../../src/health/readiness';
import { startTestApp, TestApp } from '../support/app';

describe('page shell, errors and operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves the home page in the NHS.UK layout with a skip link, header, navigation and footer', async () => {
    const page = await t.visitor().get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<a class="nhsuk-skip-link"');
    expect(page.body).toContain('class="nhsuk-header"');
    expect(page.body).toContain('class="nhsuk-footer"');
    expect(page.body).toContain('href="/assets/academy/nhsuk-frontend.css"');
    expect(page.body).toContain('Learn from peers across health and care IT');
    expect(page.body).toContain('href="/sign-in"');
  });

  it('serves nhsuk-frontend from this server, not a CDN', async () => {
    const css = await t.visitor().get('/assets/academy/nhsuk-frontend.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    expect(css.body).toContain('.nhsuk-header');
    expect(css.body).not.toMatch(/https?:\/\//);
    const icon = /url\((\/assets\/nhsuk\/assets\/images\/[\w.-]+\.svg)\)/.exec(css.body)![1];
    expect((await t.visitor().get(icon)).status).toBe(200);
    const js = await t.visitor().get('/assets/nhsuk/nhsuk-frontend.min.js');
    expect(js.status).toBe(200);
    expect(js.body).toContain('initAll');
    expect((await t.visitor().get('/assets/nhsuk/../../package.json')).status).toBe(404);
  });

  it('sends a strict CSP without inline script, and other security headers', async () => {
    const page = await t.visitor().get('/');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('answers an unknown page with a friendly 404 page', async () => {
    const page = await t.visitor().get('/no/such/page');
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Page not found');
  });

  it('answers an unknown API path with JSON problem details', async () => {
    const answer = await t.visitor().get('/api/v1/no-such-thing');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(answer.json()).toMatchObject({ status: 404, title: 'Page not found' });
  });

  it('reports health of the database, Redis and the queue', async () => {
    const answer = await t.visitor().get('/health');
    expect(answer.status).toBe(200);
    const body = answer.json();
    expect(body.status).toBe('ok');
    expect(body.database.status).toBe('up');
    expect(body.database.engine).toBe(t.config.database.kind);
    expect(body.redis.status).toBe(t.config.redis ? 'up' : 'not configured');
    expect(body.queue).toEqual({ status: 'up', driver: t.config.redis ? 'bullmq' : 'in-process' });
  });

  it('answers the liveness probe with no dependencies, and the readiness probe with the database, Redis and the workers', async () => {
    const live = await t.visitor().get('/health/live');
    expect(live.status).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await t.visitor().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers['cache-control']).toBe('no-store');
    const body = ready.json();
    expect(body).toMatchObject({ status: 'ready', database: { status: 'up' }, redis: { status: t.config.redis ? 'up' : 'not configured' } });
    // This test app consumes its own jobs (role all): it is a live worker, on BullMQ through its heartbeat key in Redis.
    expect(body.workers).toEqual({ status: 'up', count: 1 });
    // How many jobs wait or failed is for administrators (the admin page), not for anyone who asks a probe.
    expect(JSON.stringify(body)).not.toMatch(/waiting|failed|delayed/);
    expect(JSON.stringify((await t.visitor().get('/health')).json())).not.toMatch(/waiting|failed|delayed/);
  });

  it('shows administrators the worker processes alive, and nobody else', async () => {
    const admin = await t.signedIn('admin');
    const page = await admin.get('/admin');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Worker processes');
    // This test app consumes its own jobs: it is the one worker, with its process id.
    expect(page.body).toContain(`(${process.pid})`);
    expect((await (await t.signedIn('learner')).get('/admin')).status).toBe(403);
  });

  it('tags every response with a request id, keeping a sane one the client sent', async () => {
    const mine = await t.visitor().get('/', { 'x-request-id': 'trace-123' });
    expect(mine.headers['x-request-id']).toBe('trace-123');
    const generated = await t.visitor().get('/', { 'x-request-id': 'bad id with spaces' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('publishes the OpenAPI document of /api/v1 at /api/docs', async () => {
    const doc = (await t.visitor().get('/api/docs/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/token', '/api/v1/auth/register', '/api/v1/me']));
    expect(Object.keys(doc.paths).every((p: string) => p.startsWith('/api/v1'))).toBe(true);
    expect((await t.visitor().get('/api/docs')).status).toBe(200);
  });
});

describe('while draining for a shutdown', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 on /health/ready, and goes on serving and answering /health/live', async () => {
    t.app.get(Readiness).drain();
    const ready = await t.visitor().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'draining', detail: 'Shutting down: not taking new requests.' });
    expect((await t.visitor().get('/health/live')).status).toBe(200);
    expect((await t.visitor().get('/')).status).toBe(200);
  });
});

describe('when the database is gone', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 on /health, and a friendly 500 page or problem with a reference, never a stack trace', async () => {
    const visitor = t.visitor();
    await visitor.get('/sign-in');
    await t.app.get(DataSource).destroy();
    const health = await visitor.get('/health');
    expect(health.status).toBe(503);
    expect(health.json().database.status).toBe('down');
    const ready = await visitor.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', unavailable: ['database'], detail: 'Unavailable: the database.' });
    // The process itself is fine: a liveness probe must not have it restarted for a dependency's outage.
    expect((await visitor.get('/health/live')).status).toBe(200);
    const page = await visitor.submit('/sign-in', { email: 'someone@example.nhs.uk', password: 'whatever password' });
    expect(page.status).toBe(500);
    expect(page.body).toContain('Sorry, there is a problem with the service');
    expect(page.body).toContain(String(page.headers['x-request-id']));
    expect(page.body).not.toMatch(/at \w+.* \(/);
    const api = await visitor.request('POST', '/api/v1/auth/token', { json: { email: 'someone@example.nhs.uk', password: 'whatever password' } });
    expect(api.status).toBe(500);
    expect(api.json()).toMatchObject({ status: 500, detail: 'Something went wrong on our side. Please try again later.' });
  });
});
