import { DataSource } from 'typeorm';
import { CourseImporter } from '../../src/catalogue/course-importer';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { multipartBody, MultipartPart, type TestApp } from './app';

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
  bytes: Buffer;
  json<T = any>(): T;
}

/**
 * A browser over real sockets (fetch), for processes that are not in this one: a cookie jar shared by every address
 * it visits (one academy behind one name, whichever process answers), and the CSRF token of the last page it saw.
 * Redirects are not followed, so a test sees the 303 a form answers with.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();
  private csrf = '';

  async request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const answer = await fetch(url, { method: options.method ?? 'GET', headers, body: typeof options.body === 'string' || options.body === undefined ? options.body : new Uint8Array(options.body), redirect: 'manual' });
    for (const line of answer.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || attributes.some((a) => /^\s*max-age=0/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const bytes = Buffer.from(await answer.arrayBuffer());
    const body = bytes.toString('utf8');
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token) this.csrf = token;
    return { status: answer.status, headers: answer.headers, body, bytes, json: () => JSON.parse(body) };
  }

  get(url: string, headers?: Record<string, string>) {
    return this.request(url, { headers });
  }

  /** Posts a form as a browser does, with the CSRF token of the last page seen. */
  submit(url: string, form: Record<string, string>) {
    return this.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: this.csrf, ...form }).toString() });
  }

  /** Posts a multipart form (an upload), the CSRF token first. */
  upload(url: string, parts: MultipartPart[]) {
    const { body, contentType } = multipartBody([{ name: '_csrf', value: this.csrf }, ...parts]);
    return this.request(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  }

  /** Signs in through the sign-in form of the process at `base`. */
  async signIn(base: string, email: string, password: string) {
    await this.get(`${base}/sign-in`);
    const answer = await this.submit(`${base}/sign-in`, { email, password });
    if (answer.status !== 303) throw new Error(`sign-in at ${base} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    // A new session comes with a new CSRF secret: a page with a form carries the token that goes with it.
    await this.get(`${base}/account`);
  }
}

/** A client of the JSON API holding a bearer token, over real sockets. */
export async function apiToken(base: string, email: string, password: string): Promise<string> {
  const answer = await fetch(`${base}/api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (answer.status !== 201) throw new Error(`token request at ${base} answered ${answer.status}: ${await answer.text()}`);
  return ((await answer.json()) as { token: string }).token;
}

export async function callApi(base: string, token: string, method: string, path: string, json?: unknown): Promise<{ status: number; json: any }> {
  const answer = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await answer.text();
  return { status: answer.status, json: text ? JSON.parse(text) : null };
}

let sequence = 0;

/**
 * A published course of required text lessons only (written through the importer, in the shared database), so that
 * learners on other processes can complete it through the API alone: no video to watch in real time, no quiz.
 */
export async function textCourse(t: TestApp, authorId: number, title: string, lessonCount = 2): Promise<{ course: Course; lessons: Lesson[] }> {
  const slug = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${process.pid}-${++sequence}`;
  await t.app.get(CourseImporter).import(
    {
      slug,
      title,
      summary: `${title}, in short.`,
      description: `## About\n\n${title} in depth.`,
      whoFor: 'Anyone in health and care IT.',
      topic: 'Clinical safety',
      level: 'introductory',
      cpdHours: 1,
      modules: [{ title: 'Reading', lessons: Array.from({ length: lessonCount }, (_, i) => ({ kind: 'text' as const, title: `Part ${i + 1}`, minutes: 5, required: true, body: `Part ${i + 1} of ${title}.` })) }],
    },
    authorId,
    (path) => path,
  );
  const ds = t.app.get(DataSource);
  const course = await ds.getRepository(Course).findOneByOrFail({ slug });
  const lessons = await ds.getRepository(Lesson).find({ where: { courseId: course.id }, order: { position: 'ASC' } });
  return { course, lessons };
}
