import { DataSource } from 'typeorm';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Clock } from '../../src/common/clock';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { saveWebinar } from '../support/webinars';

type Signed = Visitor & { userId: number; email: string; password: string };

/** Taking a course through the API alone, as a mobile or partner client would: bearer tokens, JSON, absolute URLs. */
describe('an API a client can take a course with', () => {
  let t: TestApp;
  let author: Signed;
  let ds: DataSource;
  const origin = 'http://academy.test'; // PUBLIC_URL of the test app

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    author = await t.signedIn('author');
  });
  afterAll(() => t?.close());

  /** A learner with a bearer token, enrolled on the course through the API. */
  async function enrolledClient(course: Course): Promise<Visitor & { userId: number; enrolmentId: number }> {
    const learner = await t.signedIn('learner');
    const api = await t.apiClient(learner.email, learner.password);
    const enrolled = await api.request('POST', '/api/v1/enrolments', { json: { courseId: course.id } });
    expect(enrolled.status).toBe(201);
    return Object.assign(api, { userId: learner.userId, enrolmentId: enrolled.json().id as number });
  }
  const local = (url: string) => {
    expect(url.startsWith(`${origin}/`)).toBe(true);
    return url.slice(origin.length);
  };

  it('gives each kind of lesson: sanitised HTML, a video with its length and captions, a resource to download, a quiz without its answers', async () => {
    const c = await fullCourse(t, author.userId);
    // Author content with raw HTML and a script link: the API gives it sanitised, as the page does.
    await ds.getRepository(Lesson).update({ id: c.text.id }, { body: '## Hazards\n\nA *potential* source of harm.<script>alert(1)</script> [bad](javascript:alert(1)) <img src=x onerror=alert(1)>' });
    const api = await enrolledClient(c.course);

    const text = await api.get(`/api/v1/lessons/${c.text.id}`);
    expect(text.status).toBe(200);
    expect(text.json()).toMatchObject({
      id: c.text.id,
      kind: 'text',
      title: 'Why hazards matter',
      required: true,
      course: { id: c.course.id, slug: c.course.slug, title: c.course.title },
      module: { title: 'Hazards' },
      durationSeconds: null,
      video: null,
      resource: null,
      quiz: null,
      preview: false,
      progress: { complete: false, completedAt: null },
      previousLessonId: null,
      nextLessonId: c.video.id,
      pageUrl: `${origin}/courses/${c.course.slug}/lessons/${c.text.id}`,
    });
    const html: string = text.json().bodyHtml;
    expect(html).toContain('<h2>Hazards</h2>');
    expect(html).toContain('<em>potential</em>');
    expect(html).not.toMatch(/<script|<img|href="javascript/i);
    expect(html).toContain('&lt;script&gt;'); // shown as the text it is, never run

    const video = (await api.get(`/api/v1/lessons/${c.video.id}`)).json();
    expect(video).toMatchObject({ kind: 'video', durationSeconds: 73, previousLessonId: c.text.id, nextLessonId: c.quiz.id, resource: null, quiz: null });
    expect(video.video).toEqual({
      url: `${origin}/courses/${c.course.slug}/lessons/${c.video.id}/video`,
      contentType: 'video/mp4',
      durationSeconds: 73,
      captionsUrl: `${origin}/courses/${c.course.slug}/lessons/${c.video.id}/captions.vtt`,
      heartbeatUrl: `${origin}/api/v1/progress/heartbeat`,
      resumeAtSeconds: 0,
      coveredSeconds: 0,
      coveredPercent: 0,
    });
    // The file routes are the page's own, and take the same bearer token.
    const file = await api.get(local(video.video.url), { range: 'bytes=0-99' });
    expect(file.status).toBe(206);
    expect(file.headers['content-type']).toBe('video/mp4');
    const captions = await api.get(local(video.video.captionsUrl));
    expect(captions.status).toBe(200);
    expect(captions.body.startsWith('WEBVTT')).toBe(true);

    const quiz = await api.get(`/api/v1/lessons/${c.quiz.id}`);
    const [single, multiple] = c.questions;
    expect(quiz.json().quiz).toEqual({
      passMark: 100,
      questions: [
        { id: single.id, prompt: 'What is a clinical hazard?', multiple: false, options: single.options.map((o) => ({ id: o.id, text: o.text })) },
        { id: multiple.id, prompt: 'Which are controls?', multiple: true, options: multiple.options.map((o) => ({ id: o.id, text: o.text })) },
      ],
      attemptsUrl: `${origin}/api/v1/quizzes/${c.quiz.id}/attempts`,
      attempts: [],
      passed: false,
    });
    // Nothing that gives the answers away: no "correct" flags, no explanations (they name the answer).
    expect(quiz.body).not.toMatch(/correct/i);
    expect(quiz.body).not.toContain('potential** source');
    expect(quiz.body).not.toContain('Alerts and training both reduce risk');
    const failed = await api.request('POST', local(quiz.json().quiz.attemptsUrl), { json: { answers: { [single.id]: [single.options[1].id], [multiple.id]: [multiple.options[0].id] } } });
    expect(failed.json()).toMatchObject({ passed: false, score: 0 });
    expect((await api.get(`/api/v1/lessons/${c.quiz.id}`)).json().quiz).toMatchObject({ attempts: [{ id: failed.json().attemptId, scorePercent: 0, passed: false }], passed: false });

    const resource = (await api.get(`/api/v1/lessons/${c.resource.id}`)).json();
    expect(resource).toMatchObject({ kind: 'resource', video: null, quiz: null, progress: { complete: false } });
    expect(resource.resource).toEqual({ downloadUrl: `${origin}/courses/${c.course.slug}/lessons/${c.resource.id}/download`, fileName: 'Hazard log – template.csv', contentType: 'text/csv' });
    const download = await api.get(local(resource.resource.downloadUrl));
    expect(download.status).toBe(200);
    expect(download.headers['content-disposition']).toContain('attachment');
    // Downloading it completes it, for an API client as for a browser.
    expect((await api.get(`/api/v1/lessons/${c.resource.id}`)).json().progress).toEqual({ complete: true, completedAt: expect.any(String) });

    const last = (await api.get(`/api/v1/lessons/${c.optional.id}`)).json();
    expect(last).toMatchObject({ required: false, previousLessonId: c.resource.id, nextLessonId: null });
  });

  it('says how long each video lesson of a course is', async () => {
    const c = await fullCourse(t, author.userId);
    const course = (await t.visitor().get(`/api/v1/courses/${c.course.slug}`)).json();
    const lessons = course.modules.flatMap((m: { lessons: unknown[] }) => m.lessons);
    expect(lessons.find((l: { id: number }) => l.id === c.video.id)).toEqual({ id: c.video.id, title: 'What is a clinical hazard?', kind: 'video', minutes: 2, required: true, durationSeconds: 73 });
    expect(lessons.filter((l: { kind: string }) => l.kind !== 'video').every((l: { durationSeconds: unknown }) => l.durationSeconds === null)).toBe(true);
    expect(course.descriptionHtml).toBe('<p>A short course.</p>\n');
  });

  it('keeps lessons to learners enrolled on their course, and lets the course’s author and admins preview them', async () => {
    const c = await fullCourse(t, author.userId);
    const draft = await fullCourse(t, author.userId, 'A draft course');
    await ds.getRepository(Course).update({ id: draft.course.id }, { status: 'draft' });
    const url = `/api/v1/lessons/${c.video.id}`;

    const anonymous = await t.visitor().get(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(anonymous.json()).toMatchObject({ status: 401, code: 'unauthenticated' });

    const forged = t.visitor();
    forged.bearer = 'pa_not-a-real-token';
    const refused = await forged.get(url);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    expect(refused.json()).toMatchObject({ code: 'invalid_token' });

    const stranger = await t.signedIn('learner');
    const strangerApi = await t.apiClient(stranger.email, stranger.password);
    const notEnrolled = await strangerApi.get(url);
    expect(notEnrolled.status).toBe(403);
    expect(notEnrolled.json()).toMatchObject({ code: 'not_enrolled', detail: 'Enrol on this course to open its lessons' });
    // Nor the files behind it: the same rule as the page's.
    expect((await strangerApi.get(`/courses/${c.course.slug}/lessons/${c.video.id}/video`)).status).toBe(404);
    expect((await strangerApi.get(`/api/v1/lessons/${draft.video.id}`)).json()).toMatchObject({ status: 404, code: 'not_found' });
    expect((await strangerApi.get('/api/v1/lessons/99999999')).status).toBe(404);
    expect((await strangerApi.get('/api/v1/lessons/abc')).json()).toMatchObject({ status: 404, code: 'not_found' });

    const otherAuthor = await t.signedIn('author');
    const otherAuthorApi = await t.apiClient(otherAuthor.email, otherAuthor.password);
    expect((await otherAuthorApi.get(url)).status).toBe(403);
    expect((await otherAuthorApi.get(`/api/v1/lessons/${draft.video.id}`)).status).toBe(404);

    const authorApi = await t.apiClient(author.email, author.password);
    const preview = await authorApi.get(`/api/v1/lessons/${draft.quiz.id}`);
    expect(preview.status).toBe(200);
    expect(preview.json()).toMatchObject({ preview: true, progress: null, quiz: { attempts: [], passed: false } });
    expect(preview.body).not.toMatch(/correct/i);
    const admin = await t.signedIn('admin');
    const adminApi = await t.apiClient(admin.email, admin.password);
    expect((await adminApi.get(url)).json()).toMatchObject({ preview: true, progress: null });

    // A learner who withdraws loses the lessons (and keeps the progress for later).
    const learner = await enrolledClient(c.course);
    expect((await learner.get(url)).status).toBe(200);
    const browser = await t.signedIn('learner', { email: `${Date.now()}.withdrawer@example.nhs.uk` });
    const browserApi = await t.apiClient(browser.email, browser.password);
    await browserApi.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } });
    await browser.get(`/courses/${c.course.slug}`);
    expect((await browser.submit(`/courses/${c.course.slug}/withdraw`, {})).status).toBe(303);
    expect((await browserApi.get(url)).json()).toMatchObject({ status: 403, code: 'not_enrolled' });
  });

  it('gives one enrolment with its progress in every lesson, to its learner and admins only', async () => {
    const c = await fullCourse(t, author.userId);
    const api = await enrolledClient(c.course);
    const clock = t.app.get(Clock);
    expect((await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`)).status).toBe(200);
    await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from: 0, to: 10 } });
    clock.travel(10_000);
    const beat = (await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from: 10, to: 20 } })).json();
    const [single, multiple] = c.questions;
    await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers: { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id] } } });

    const answer = await api.get(`/api/v1/enrolments/${api.enrolmentId}`);
    expect(answer.status).toBe(200);
    const enrolment = answer.json();
    expect(enrolment).toMatchObject({ id: api.enrolmentId, courseId: c.course.id, courseSlug: c.course.slug, courseTitle: c.course.title, status: 'active', progressPercent: 25, completedAt: null, nextLessonId: c.video.id });
    const base = { coveredSeconds: null, coveredPercent: null, resumeAtSeconds: null, durationSeconds: null, attempts: null, bestScorePercent: null };
    expect(enrolment.lessons).toEqual([
      { ...base, lessonId: c.text.id, moduleId: c.text.moduleId, title: 'Why hazards matter', kind: 'text', required: true, complete: true, completedAt: expect.any(String) },
      {
        ...base,
        lessonId: c.video.id,
        moduleId: c.video.moduleId,
        title: 'What is a clinical hazard?',
        kind: 'video',
        required: true,
        complete: false,
        completedAt: null,
        durationSeconds: 73,
        coveredSeconds: beat.coveredSeconds,
        coveredPercent: beat.coveredPercent,
        resumeAtSeconds: 20,
      },
      { ...base, lessonId: c.quiz.id, moduleId: c.quiz.moduleId, title: 'Check your understanding', kind: 'quiz', required: true, complete: false, completedAt: null, attempts: 1, bestScorePercent: 50 },
      { ...base, lessonId: c.resource.id, moduleId: c.resource.moduleId, title: 'Hazard log template', kind: 'resource', required: true, complete: false, completedAt: null },
      { ...base, lessonId: c.optional.id, moduleId: c.optional.moduleId, title: 'Further reading', kind: 'text', required: false, complete: false, completedAt: null },
    ]);
    expect(beat.coveredSeconds).toBeGreaterThan(0);

    const url = `/api/v1/enrolments/${api.enrolmentId}`;
    expect((await t.visitor().get(url)).status).toBe(401);
    const other = await t.signedIn('learner');
    const otherApi = await t.apiClient(other.email, other.password);
    const refused = await otherApi.get(url);
    expect(refused.status).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'not_found', detail: 'You have no enrolment with that id' });
    const courseAuthor = await t.apiClient(author.email, author.password);
    expect((await courseAuthor.get(url)).status).toBe(404);
    expect((await otherApi.get('/api/v1/enrolments/99999999')).status).toBe(404);
    expect((await otherApi.get('/api/v1/enrolments/first')).status).toBe(404);
    const admin = await t.signedIn('admin');
    expect((await (await t.apiClient(admin.email, admin.password)).get(url)).json()).toMatchObject({ id: api.enrolmentId, progressPercent: 25 });
  });

  it('reads an empty body sent as application/json as {}, as many clients send that header on every call', async () => {
    const c = await fullCourse(t, author.userId);
    const api = await enrolledClient(c.course);
    const json = { 'content-type': 'application/json' };
    const done = await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`, { headers: json, raw: '' });
    expect(done.status).toBe(200);
    expect(done.json()).toMatchObject({ lessonComplete: true });

    const webinar = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(t.app.get(Clock).now().getTime() + 7 * 86_400_000) });
    expect((await api.request('POST', `/api/v1/webinars/${webinar.id}/registrations`, { headers: json, raw: '' })).json()).toMatchObject({ status: 'registered' });
    const cancelled = await api.request('DELETE', `/api/v1/webinars/${webinar.id}/registrations/me`, { headers: json, raw: '' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json()).toEqual({ cancelled: true });

    // An empty body where one is needed is then refused for what it lacks, not as JSON.
    const empty = await api.request('POST', '/api/v1/enrolments', { headers: json, raw: '' });
    expect(empty.status).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'validation_failed', errors: { courseId: expect.any(String) } });
    // Malformed JSON is still malformed.
    const broken = await api.request('POST', '/api/v1/enrolments', { headers: json, raw: '{"courseId": ' });
    expect(broken.status).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'bad_json', detail: 'The request body is not valid JSON.' });
  });

  it('gives every problem a machine-readable code beside its detail', async () => {
    const c = await fullCourse(t, author.userId);
    const api = await enrolledClient(c.course);
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, string, { json?: unknown; raw?: string; headers?: Record<string, string> }, number, string]> = [
      ['POST', '/api/v1/enrolments', { json: { courseId: 'one' } }, 400, 'validation_failed'],
      ['POST', '/api/v1/enrolments', { json: { courseId: 99999999 } }, 404, 'not_found'],
      ['POST', `/api/v1/lessons/${c.video.id}/complete`, {}, 409, 'conflict'],
      ['GET', '/api/v1/no-such-thing', {}, 404, 'not_found'],
      ['POST', '/api/v1/enrolments', { raw: `{"a":${'['.repeat(100)}${']'.repeat(100)}}`, headers: json }, 400, 'json_too_deep'],
      ['POST', '/api/v1/enrolments', { raw: `{"courseId":1,"pad":"${'x'.repeat(1024 * 1024)}"}`, headers: json }, 413, 'payload_too_large'],
      ['POST', '/api/v1/enrolments', { raw: '<courseId>1</courseId>', headers: { 'content-type': 'application/xml' } }, 415, 'unsupported_media_type'],
    ];
    for (const [method, url, options, status, code] of cases) {
      const answer = await api.request(method, url, options);
      expect({ url, status: answer.status, type: answer.headers['content-type'], code: answer.json().code }).toEqual({ url, status, type: 'application/problem+json; charset=utf-8', code });
      expect(answer.json().detail).toEqual(expect.any(String));
    }
    const wrongPassword = await t.visitor().request('POST', '/api/v1/auth/token', { json: { email: author.email, password: 'not the password at all' } });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(wrongPassword.json().code).toBe('unauthenticated');
  });
});
