import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccountsService } from '../../src/accounts/accounts.service';
import type { Role } from '../../src/accounts/roles';
import { createLogger, createWebApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/config';
import { InProcessDriver } from '../../src/jobs/in-process.driver';
import { JobsService } from '../../src/jobs/jobs.service';
import { provisionEngines, TestEngines } from './engines';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  engines: TestEngines;
  /** A new visitor with an empty cookie jar. */
  visitor(): Visitor;
  /** Creates an account directly and returns a visitor signed in as it. */
  signedIn(role?: Role, overrides?: Partial<{ email: string; password: string; name: string }>): Promise<Visitor & { email: string; password: string; userId: number }>;
  /** An API client (no cookies) holding a bearer token for this account. */
  apiClient(email: string, password: string): Promise<Visitor>;
  /** Waits until background jobs have run (in-process driver) or the BullMQ queue is idle. */
  drainJobs(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;
export const uniqueEmail = (label = 'user') => `${label}.${process.pid}.${Date.now()}.${++counter}@example.nhs.uk`;
export const PASSWORD = 'a long enough password';

/** Boots the whole academy (web and jobs in one process) on the engines the environment names. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const engines = await provisionEngines();
  const config = loadConfig({ AUTH_RATE_LIMIT_PER_IP: '10000', AUTH_RATE_LIMIT_PER_ACCOUNT: '10000', ...engines.env, ...env });
  const app = await createWebApp(config, createLogger(config));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const jobs = app.get(JobsService);

  const testApp: TestApp = {
    app,
    config,
    engines,
    visitor: () => new Visitor(app),
    async signedIn(role = 'learner', overrides = {}) {
      const email = overrides.email ?? uniqueEmail(role);
      const password = overrides.password ?? PASSWORD;
      const accounts = app.get(AccountsService);
      const user = await accounts.register({ email, password, name: overrides.name ?? `Test ${role}`, organisation: 'Test Trust', jobRole: 'Tester' }, role);
      const visitor = new Visitor(app);
      await visitor.signIn(email, password);
      return Object.assign(visitor, { email, password, userId: user.id });
    },
    async apiClient(email, password) {
      const client = new Visitor(app);
      const issued = await client.request('POST', '/api/v1/auth/token', { json: { email, password } });
      if (issued.status !== 201) throw new Error(`token request failed with ${issued.status}`);
      client.bearer = issued.json().token;
      return client;
    },
    async drainJobs(timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      if (jobs.driver instanceof InProcessDriver) return jobs.driver.drain();
      for (;;) {
        const stats = await jobs.stats();
        if (stats.waiting + stats.active === 0) return;
        if (Date.now() > deadline) throw new Error(`jobs still running after ${timeoutMs} ms: ${JSON.stringify(stats)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await app.close();
      await engines.dispose();
    },
  };
  return testApp;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json<T = any>(): T;
  /** The body's bytes, for binary responses (PDFs, video). */
  bytes: Buffer;
}

/** One part of a multipart form: a text field, or a file with its name and bytes. */
export type MultipartPart = { name: string; value: string } | { name: string; filename: string; content: Buffer | string; contentType?: string };

/** A multipart/form-data body as a browser sends it, parts in the order given. */
export function multipartBody(parts: MultipartPart[]): { body: Buffer; contentType: string } {
  const boundary = `----AcademyFormBoundary${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const file = 'filename' in part;
    const headers = [
      `Content-Disposition: form-data; name="${part.name}"${file ? `; filename="${part.filename}"` : ''}`,
      ...(file ? [`Content-Type: ${part.contentType ?? 'application/octet-stream'}`] : []),
    ];
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`), Buffer.from(file ? part.content : part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A visitor with a cookie jar, driving the server through Fastify's inject (no socket, real HTTP semantics). */
export class Visitor {
  readonly cookies = new Map<string, string>();
  bearer: string | null = null;
  csrf = '';

  constructor(private readonly app: NestFastifyApplication) {}

  async request(
    method: string,
    url: string,
    options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; raw?: string; multipart?: MultipartPart[] } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    let payload: string | Buffer | undefined = options.raw;
    if (options.multipart) {
      const { body, contentType } = multipartBody(options.multipart);
      headers['content-type'] = contentType;
      payload = body;
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(options.form).toString();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.json);
    }
    const response = await this.app.getHttpAdapter().getInstance().inject({ method: method as 'GET', url, headers, payload });
    this.keepCookies(response.headers['set-cookie']);
    const body = response.body;
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token) this.csrf = token;
    return { status: response.statusCode, headers: response.headers, body, bytes: response.rawPayload, json: () => JSON.parse(body) };
  }

  get(url: string, headers?: Record<string, string>) {
    return this.request('GET', url, { headers });
  }

  /** Submits a form as a browser would: with the CSRF token from the last page this visitor saw. */
  async submit(url: string, form: Record<string, string>, options: { withCsrf?: boolean } = {}) {
    if (!this.csrf) await this.get('/sign-in');
    return this.request('POST', url, { form: options.withCsrf === false ? form : { _csrf: this.csrf, ...form } });
  }

  /** Submits a multipart form (a file upload) as a browser would: the CSRF token first, then the parts. */
  async upload(url: string, parts: MultipartPart[], options: { withCsrf?: boolean } = {}) {
    if (!this.csrf) await this.get('/sign-in');
    return this.request('POST', url, { multipart: options.withCsrf === false ? parts : [{ name: '_csrf', value: this.csrf }, ...parts] });
  }

  async signIn(email: string, password: string) {
    await this.get('/sign-in');
    const answer = await this.submit('/sign-in', { email, password });
    if (answer.status !== 303) throw new Error(`sign-in failed with ${answer.status}`);
    // Signing in gives the browser a new CSRF secret; a page with a form carries the token that goes with it.
    await this.get('/account');
    return answer;
  }

  private keepCookies(setCookie: string | string[] | undefined) {
    for (const line of [setCookie ?? []].flat()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}
