import { Clock } from '../../src/common/clock';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { saveWebinar } from '../support/webinars';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
};
type Response = { description?: string; headers?: Record<string, unknown>; content?: Record<string, { schema?: Schema }> };
type Operation = { operationId?: string; summary?: string; tags?: string[]; security?: Array<Record<string, string[]>>; responses: Record<string, Response>; requestBody?: unknown };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The document a client generates its code from: every answer of every operation described, problems included. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: any;
  let operations: Array<{ method: string; path: string; op: Operation }>;

  beforeAll(async () => {
    t = await startTestApp();
    const answer = await t.visitor().get('/api/docs/openapi.json');
    expect(answer.status).toBe(200);
    doc = answer.json();
    operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
    );
  });
  afterAll(() => t?.close());

  const resolve = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace('#/components/schemas/', '');
    const found = doc.components.schemas[name];
    if (!found) throw new Error(`unresolved ${schema.$ref}`);
    return resolve(found);
  };

  it('describes every response of every operation with a schema (problems too), and names, tags and secures each one', () => {
    expect(operations.length).toBeGreaterThan(20);
    const tags = new Map<string, string>((doc.tags as Array<{ name: string; description: string }>).map((tag) => [tag.name, tag.description]));
    const ids = new Set<string>();
    const faults: string[] = [];
    for (const { method, path, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId || !/^[a-z][A-Za-z]+$/.test(op.operationId)) faults.push(`${where}: operationId ${op.operationId}`);
      if (ids.has(op.operationId!)) faults.push(`${where}: operationId ${op.operationId} twice`);
      ids.add(op.operationId!);
      if (!op.summary) faults.push(`${where}: no summary`);
      if (op.tags?.length !== 1 || !tags.get(op.tags[0])) faults.push(`${where}: tags ${JSON.stringify(op.tags)} (one, described at the top)`);
      if (!Array.isArray(op.security)) faults.push(`${where}: no security`);
      const statuses = Object.keys(op.responses);
      if (!statuses.some((s) => s.startsWith('2'))) faults.push(`${where}: no 2xx`);
      if (!statuses.some((s) => s.startsWith('4'))) faults.push(`${where}: no 4xx`);
      if (!statuses.includes('503')) faults.push(`${where}: no 503`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (!response.description) faults.push(`${where} ${status}: no description`);
        if (status === '204') {
          if (response.content) faults.push(`${where} 204: has content`);
          continue;
        }
        const media = Object.entries(response.content ?? {});
        if (!media.length || media.some(([, m]) => !m.schema)) {
          faults.push(`${where} ${status}: no schema`);
          continue;
        }
        for (const [, m] of media) resolve(m.schema!.items ?? m.schema!);
        if (Number(status) >= 400) {
          if (response.content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/Problem') faults.push(`${where} ${status}: not a Problem`);
          if (status === '401' && !response.headers?.['WWW-Authenticate']) faults.push(`${where} 401: no WWW-Authenticate`);
          if ((status === '429' || status === '503') && !response.headers?.['Retry-After']) faults.push(`${where} ${status}: no Retry-After`);
        }
      }
    }
    expect(faults).toEqual([]);
    // The operations this work is about, by the names clients call them.
    expect([...ids]).toEqual(expect.arrayContaining(['getLesson', 'completeLesson', 'getEnrolment', 'getCourse', 'listCourses', 'submitQuizAttempt', 'cancelWebinarRegistration']));
  });

  it('has a Problem with a machine-readable code, servers, licence and contact, and says what the bearer tokens are', () => {
    const problem = doc.components.schemas.Problem;
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId']));
    expect(problem.properties.code.description).toContain('`not_enrolled`');
    expect(doc.servers).toEqual([{ url: t.config.publicUrl, description: t.config.academyName }]);
    expect(doc.info.license).toEqual({ name: 'MIT', url: expect.stringMatching(/^https:/) });
    expect(doc.info.contact).toEqual({ name: t.config.academyName, url: t.config.publicUrl });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: expect.stringContaining('pa_') });
    expect(doc.components.securitySchemes.bearer.description).toContain('POST /api/v1/auth/token');
  });

  it('asks for a token exactly where the API does: anonymous calls get 401 there and nowhere else', async () => {
    const anonymous = t.visitor();
    const mismatches: string[] = [];
    for (const { method, path, op } of operations) {
      const needsToken = op.security!.length > 0 && op.security!.every((requirement) => Object.keys(requirement).length > 0);
      const url = path.replace(/\{[^}]+\}/g, '1');
      const answer = await anonymous.request(method.toUpperCase(), url, method === 'get' || method === 'delete' ? {} : { json: {} });
      if ((answer.status === 401) !== needsToken) mismatches.push(`${method.toUpperCase()} ${path}: ${answer.status}, document says ${needsToken ? 'token needed' : 'public'}`);
      if (answer.status === 401 && answer.headers['www-authenticate'] !== 'Bearer realm="api"') mismatches.push(`${method.toUpperCase()} ${path}: WWW-Authenticate ${answer.headers['www-authenticate']}`);
      if (!op.responses[String(answer.status)]) mismatches.push(`${method.toUpperCase()} ${path}: ${answer.status} is not documented`);
    }
    expect(mismatches).toEqual([]);
  });

  it('describes what the API really answers: every field documented, every required field there', async () => {
    const author = await t.signedIn('author');
    const c = await fullCourse(t, author.userId);
    const learner = await t.signedIn('learner');
    const api: Visitor = await t.apiClient(learner.email, learner.password);
    const enrolment = (await api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).json();
    await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers: { [c.questions[0].id]: [c.questions[0].options[0].id], [c.questions[1].id]: [c.questions[1].options[2].id] } } });
    const webinar = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(t.app.get(Clock).now().getTime() + 86_400_000), recordingUrl: 'https://video.example.org/w/1' });
    const calls: Array<[string, string, string]> = [
      ['get', '/api/v1/lessons/{id}', `/api/v1/lessons/${c.text.id}`],
      ['get', '/api/v1/lessons/{id}', `/api/v1/lessons/${c.video.id}`],
      ['get', '/api/v1/lessons/{id}', `/api/v1/lessons/${c.quiz.id}`],
      ['get', '/api/v1/lessons/{id}', `/api/v1/lessons/${c.resource.id}`],
      ['get', '/api/v1/enrolments/{id}', `/api/v1/enrolments/${enrolment.id}`],
      ['get', '/api/v1/enrolments', '/api/v1/enrolments'],
      ['get', '/api/v1/courses/{slug}', `/api/v1/courses/${c.course.slug}`],
      ['get', '/api/v1/courses', '/api/v1/courses'],
      ['get', '/api/v1/me', '/api/v1/me'],
      ['get', '/api/v1/lessons/{id}', '/api/v1/lessons/99999999'],
      ['post', '/api/v1/webinars/{id}/registrations', `/api/v1/webinars/${webinar.id}/registrations`],
      ['get', '/api/v1/webinars/{slug}', `/api/v1/webinars/${webinar.slug}`],
      ['get', '/api/v1/webinars', '/api/v1/webinars'],
      ['get', '/api/v1/webinars/{id}/questions', `/api/v1/webinars/${webinar.id}/questions`],
      ['delete', '/api/v1/webinars/{id}/registrations/me', `/api/v1/webinars/${webinar.id}/registrations/me`],
      ['get', '/api/v1/certificates', '/api/v1/certificates'],
      ['get', '/api/v1/verify/{code}', '/api/v1/verify/2345-6789-ABCD'],
    ];
    const faults: string[] = [];
    for (const [method, path, url] of calls) {
      const answer = await api.request(method.toUpperCase(), url);
      const response = doc.paths[path][method].responses[String(answer.status)] as Response | undefined;
      const media = response?.content?.[String(answer.headers['content-type']).split(';')[0]];
      if (!media?.schema) {
        faults.push(`${url}: ${answer.status} ${answer.headers['content-type']} not documented`);
        continue;
      }
      faults.push(...mismatches(media.schema, answer.json(), url));
    }
    expect(faults).toEqual([]);
  });

  /** Where a value departs from its schema: undocumented fields, missing required ones, wrong types. */
  function mismatches(given: Schema, value: unknown, at: string): string[] {
    const schema = resolve(given);
    if (value === null) return schema.nullable ? [] : [`${at}: null, not nullable`];
    if (schema.allOf) return schema.allOf.flatMap((part) => mismatches(part, value, at));
    if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
    const type = schema.type ?? (schema.properties ? 'object' : undefined);
    if (type === 'array') return Array.isArray(value) ? value.flatMap((item, i) => mismatches(schema.items!, item, `${at}[${i}]`)) : [`${at}: not an array`];
    if (type === 'object') {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      if (!schema.properties) return typeof schema.additionalProperties === 'object' ? Object.entries(record).flatMap(([k, v]) => mismatches(schema.additionalProperties as Schema, v, `${at}.${k}`)) : [];
      return [
        ...(schema.required ?? []).filter((key) => !(key in record)).map((key) => `${at}.${key}: required, missing`),
        ...Object.entries(record).flatMap(([key, v]) => (schema.properties![key] ? mismatches(schema.properties![key], v, `${at}.${key}`) : [`${at}.${key}: not documented`])),
      ];
    }
    const actual = typeof value;
    const expected = type === 'integer' ? 'number' : type;
    return expected && actual !== expected ? [`${at}: ${actual}, documented as ${type}`] : [];
  }
});
