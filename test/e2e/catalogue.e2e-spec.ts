import { DataSource } from 'typeorm';
import { Course } from '../../src/catalogue/entities/course.entity';
import { startTestApp, TestApp } from '../support/app';
import { course } from '../support/courses';

describe('catalogue and enrolment', () => {
  let t: TestApp;
  let authorId: number;
  beforeAll(async () => {
    t = await startTestApp();
    authorId = (await t.signedIn('author')).userId;
    await course(t, { title: 'Clinical safety for beginners', summary: 'Hazard logs and DCB0129 in practice', topic: 'Clinical safety', minutes: 25, authorId });
    await course(t, { title: 'FHIR basics', summary: 'Resources, profiles and UK Core', topic: 'Interoperability', level: 'intermediate', minutes: 45, authorId });
    await course(t, { title: 'Leading an EPR go-live', summary: 'Cutover, floorwalkers and hypercare', topic: 'Implementation', level: 'advanced', minutes: 90, authorId });
    await course(t, { title: 'Secret draft on safety', summary: 'Not yet ready', status: 'draft', authorId });
  });
  afterAll(() => t.close());

  const titles = (body: { items: Array<{ title: string }> }) => body.items.map((c) => c.title);

  it('lists published courses only, newest first, through the API', async () => {
    const answer = await t.visitor().get('/api/v1/courses');
    expect(answer.status).toBe(200);
    expect(titles(answer.json())).toEqual(['Leading an EPR go-live', 'FHIR basics', 'Clinical safety for beginners']);
    expect(answer.json()).toMatchObject({ total: 3, page: 1, pages: 1 });
    expect(answer.json().items[0]).toMatchObject({ estimatedMinutes: 90, cpdHours: 1.5, topic: { name: 'Implementation' } });
  });

  it('searches every word in the title or summary, case-insensitively, with % and _ taken literally', async () => {
    expect(titles((await t.visitor().get('/api/v1/courses?q=HAZARD%20dcb0129')).json())).toEqual(['Clinical safety for beginners']);
    expect(titles((await t.visitor().get('/api/v1/courses?q=fhir%20hazard')).json())).toEqual([]);
    expect(titles((await t.visitor().get('/api/v1/courses?q=%25')).json())).toEqual([]);
    expect(titles((await t.visitor().get('/api/v1/courses?q=safety')).json())).toEqual(['Clinical safety for beginners']);
  });

  it('filters by topic, level and length, and sorts by shortest and most popular', async () => {
    expect(titles((await t.visitor().get('/api/v1/courses?topic=interoperability')).json())).toEqual(['FHIR basics']);
    expect(titles((await t.visitor().get('/api/v1/courses?level=advanced')).json())).toEqual(['Leading an EPR go-live']);
    expect(titles((await t.visitor().get('/api/v1/courses?length=short')).json())).toEqual(['Clinical safety for beginners']);
    expect(titles((await t.visitor().get('/api/v1/courses?length=medium')).json())).toEqual(['FHIR basics']);
    expect(titles((await t.visitor().get('/api/v1/courses?sort=shortest')).json())).toEqual(['Clinical safety for beginners', 'FHIR basics', 'Leading an EPR go-live']);
    const learner = await t.signedIn();
    const fhir = (await t.visitor().get('/api/v1/courses?q=fhir')).json().items[0];
    const api = await t.apiClient(learner.email, learner.password);
    expect((await api.request('POST', '/api/v1/enrolments', { json: { courseId: fhir.id } })).status).toBe(201);
    expect(titles((await t.visitor().get('/api/v1/courses?sort=popular')).json())[0]).toBe('FHIR basics');
  });

  it('pages through the results', async () => {
    const ds = t.app.get(DataSource);
    const before = await ds.getRepository(Course).count({ where: { status: 'published' } });
    for (let i = 0; i < 13; i++) await course(t, { title: `Paging course ${i}`, authorId, topic: 'Paging' });
    const first = (await t.visitor().get('/api/v1/courses?topic=paging')).json();
    const second = (await t.visitor().get('/api/v1/courses?topic=paging&page=2')).json();
    expect(first).toMatchObject({ total: 13, pages: 2, perPage: 12 });
    expect(first.items).toHaveLength(12);
    expect(second.items).toHaveLength(1);
    expect(new Set([...titles(first), ...titles(second)]).size).toBe(13);
    expect(before).toBeGreaterThan(0);
  });

  it('refuses bad filter values with 400 and a message', async () => {
    for (const query of ['level=expert', 'length=huge', 'sort=random', 'page=0', 'page=abc', `q=${'x'.repeat(101)}`, 'topic=<script>']) {
      const answer = await t.visitor().get(`/api/v1/courses?${query}`);
      expect(answer.status).toBe(400);
      expect(Object.values(answer.json().errors ?? {}).join(' ')).toMatch(/must be|at most/);
    }
    expect((await t.visitor().get('/courses?level=expert')).status).toBe(400);
  });

  it('shows a course with its syllabus; a draft is 404 to learners but visible to its author as a preview', async () => {
    const list = (await t.visitor().get('/api/v1/courses?q=fhir')).json();
    const detail = await t.visitor().get(`/api/v1/courses/${list.items[0].slug}`);
    expect(detail.status).toBe(200);
    expect(detail.json().modules[0].lessons.map((l: { kind: string }) => l.kind)).toEqual(['text', 'quiz']);
    const page = await t.visitor().get(`/courses/${list.items[0].slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Check your understanding');
    expect(page.body).toContain('Sign in to enrol');
    const draft = await t.app.get(DataSource).getRepository(Course).findOneByOrFail({ title: 'Secret draft on safety' });
    expect((await t.visitor().get(`/courses/${draft.slug}`)).status).toBe(404);
    expect((await t.visitor().get(`/api/v1/courses/${draft.slug}`)).status).toBe(404);
    expect((await (await t.signedIn('learner')).get(`/courses/${draft.slug}`)).status).toBe(404);
    expect((await (await t.signedIn('author')).get(`/courses/${draft.slug}`)).status).toBe(404);
    const admin = await t.signedIn('admin');
    expect((await admin.get(`/courses/${draft.slug}`)).body).toContain('Preview');
  });

  it('enrols once however often it is asked, withdraws and re-enrols keeping the enrolment', async () => {
    const learner = await t.signedIn();
    const target = (await t.visitor().get('/api/v1/courses?q=clinical')).json().items[0];
    const api = await t.apiClient(learner.email, learner.password);
    const answers = await Promise.all([1, 2, 3].map(() => api.request('POST', '/api/v1/enrolments', { json: { courseId: target.id } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM enrolments WHERE user_id = ? AND course_id = ?', [learner.userId, target.id]);
    expect(Number(n)).toBe(1);
    const list = (await api.get('/api/v1/enrolments')).json();
    expect(list).toEqual([expect.objectContaining({ courseId: target.id, status: 'active', progressPercent: 0, courseTitle: 'Clinical safety for beginners' })]);

    await learner.get(`/courses/${target.slug}`);
    expect((await learner.submit(`/courses/${target.slug}/withdraw`, {})).status).toBe(303);
    expect((await learner.get('/my-learning')).body).not.toContain('Clinical safety for beginners');
    await learner.get(`/courses/${target.slug}`);
    expect((await learner.submit(`/courses/${target.slug}/enrol`, {})).status).toBe(303);
    const rows = await t.app.get(DataSource).query('SELECT id, status FROM enrolments WHERE user_id = ?', [learner.userId]);
    expect(rows).toEqual([{ id: list[0].id, status: 'active' }]);
    const myLearning = await learner.get('/my-learning');
    expect(myLearning.body).toContain('Clinical safety for beginners');
    expect(myLearning.body).toContain('<progress');
  });

  it('refuses enrolment on a draft or unknown course, anonymous enrolment, and bad bodies', async () => {
    const signedIn = await t.signedIn();
    const learner = await t.apiClient(signedIn.email, signedIn.password);
    const draft = await t.app.get(DataSource).getRepository(Course).findOneByOrFail({ title: 'Secret draft on safety' });
    expect((await learner.request('POST', '/api/v1/enrolments', { json: { courseId: draft.id } })).status).toBe(404);
    expect((await learner.request('POST', '/api/v1/enrolments', { json: { courseId: 999999 } })).status).toBe(404);
    expect((await learner.request('POST', '/api/v1/enrolments', { json: { courseId: 'one' } })).status).toBe(400);
    expect((await learner.request('POST', '/api/v1/enrolments', { json: {} })).status).toBe(400);
    expect((await t.visitor().request('POST', '/api/v1/enrolments', { json: { courseId: draft.id } })).status).toBe(401);
    expect((await t.visitor().get('/my-learning')).status).toBe(303);
    const page = await signedIn.get('/courses');
    expect(page.status).toBe(200);
    const noCsrf = await signedIn.request('POST', '/api/v1/enrolments', { json: { courseId: draft.id } });
    expect(noCsrf.status).toBe(403);
  });
});
