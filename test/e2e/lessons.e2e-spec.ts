import { DataSource } from 'typeorm';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Clock } from '../../src/common/clock';
import type { DomainError } from '../../src/common/errors';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LessonProgress } from '../../src/learning/entities/lesson-progress.entity';
import { QuizAttempt } from '../../src/learning/entities/quiz-attempt.entity';
import { ProgressService } from '../../src/learning/progress.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';

type Signed = Visitor & { userId: number; email: string; password: string };

describe('lessons, progress and course completion', () => {
  let t: TestApp;
  let author: Signed;
  let ds: DataSource;
  let clock: Clock;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    author = await t.signedIn('author');
  });
  afterAll(() => t?.close());

  async function enrolled(course: Course): Promise<Signed> {
    const learner = await t.signedIn('learner');
    await learner.get(`/courses/${course.slug}`);
    expect((await learner.submit(`/courses/${course.slug}/enrol`, {})).status).toBe(303);
    return learner;
  }
  const enrolmentOf = (userId: number, courseId: number) => ds.getRepository(Enrolment).findOneByOrFail({ userId, courseId });
  const progressOf = async (userId: number, courseId: number, lessonId: number) =>
    ds.getRepository(LessonProgress).findOneBy({ enrolmentId: (await enrolmentOf(userId, courseId)).id, lessonId });
  const heartbeat = (who: Visitor, body: unknown) => who.request('POST', '/api/v1/progress/heartbeat', { json: body, headers: { 'x-csrf-token': who.csrf } });

  it('takes a learner through every kind of lesson to a completed course, in the same write as the last lesson', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    const base = `/courses/${c.course.slug}/lessons`;

    const coursePage = await learner.get(`/courses/${c.course.slug}`);
    expect(coursePage.body).toContain(`href="${base}/${c.text.id}"`);
    expect(coursePage.body).toContain('Start the course');

    // Text: rendered Markdown, "mark as complete" leads on to the next lesson.
    const text = await learner.get(`${base}/${c.text.id}`);
    expect(text.status).toBe(200);
    expect(text.body).toContain('<h3>Hazards</h3>');
    expect(text.body).toContain('Mark as complete');
    const marked = await learner.submit(`${base}/${c.text.id}/complete`, {});
    expect(marked.status).toBe(303);
    expect(marked.headers.location).toBe(`${base}/${c.video.id}`);
    expect((await enrolmentOf(learner.userId, c.course.id)).progressPercent).toBe(25);

    // My learning's "continue" goes to the next unfinished lesson.
    expect((await learner.get('/my-learning')).body).toContain(`href="${base}/${c.video.id}"`);

    // Video: watched honestly in 10-second heartbeats, 10 seconds of real time apart.
    const page = await learner.get(`${base}/${c.video.id}`);
    expect(page.body).toContain(`${base}/${c.video.id}/captions.vtt`);
    for (let from = 0; from < 73; from += 10) {
      clock.travel(10_000);
      const beat = await heartbeat(learner, { lessonId: c.video.id, from, to: Math.min(from + 10, 73) });
      expect(beat.status).toBe(200);
    }
    const video = await progressOf(learner.userId, c.course.id, c.video.id);
    expect(video!.coveredSeconds).toBe(73);
    expect(video!.completedAt).not.toBeNull();
    expect((await enrolmentOf(learner.userId, c.course.id)).progressPercent).toBe(50);

    // Quiz: a wrong attempt is kept and not passed; the right one passes.
    const [single, multiple] = c.questions;
    const wrong = await learner.request('POST', `${base}/${c.quiz.id}/quiz`, {
      raw: `_csrf=${learner.csrf}&question-${single.id}=${single.options[1].id}&question-${multiple.id}=${multiple.options[0].id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toContain('Not passed this time: 0%');
    // A failed attempt says which questions were wrong, never which answers are right: no tag, no explanation that names them.
    expect(wrong.body.match(/Not quite\./g)).toHaveLength(2);
    expect(wrong.body).not.toContain('Correct answer');
    expect(wrong.body).not.toContain('A hazard is a <strong>potential</strong> source of harm.');
    expect(wrong.body).not.toContain('Alerts and training both reduce risk.');
    // What the learner chose stays chosen, so they can change only what was wrong.
    expect(wrong.body).toMatch(new RegExp(`id="option-${single.options[1].id}"[^>]*checked`));
    // Half right: the right question's explanation tells nothing the learner did not choose; the other stays closed.
    const half = await learner.request('POST', `${base}/${c.quiz.id}/quiz`, {
      raw: `_csrf=${learner.csrf}&question-${single.id}=${single.options[0].id}&question-${multiple.id}=${multiple.options[0].id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(half.body).toContain('Not passed this time: 50%');
    expect(half.body).toContain('A hazard is a <strong>potential</strong> source of harm.');
    expect(half.body).not.toContain('Alerts and training both reduce risk.');
    expect(half.body).not.toContain('Correct answer');
    const right = await learner.request('POST', `${base}/${c.quiz.id}/quiz`, {
      raw: `_csrf=${learner.csrf}&question-${single.id}=${single.options[0].id}&question-${multiple.id}=${multiple.options[0].id}&question-${multiple.id}=${multiple.options[1].id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(right.body).toContain('You passed: 100%');
    // After a pass, the right answers and every explanation.
    expect(right.body.match(/Correct answer/g)).toHaveLength(3);
    expect(right.body).toContain('A hazard is a <strong>potential</strong> source of harm.');
    expect(right.body).toContain('Alerts and training both reduce risk.');
    const enrolment = await enrolmentOf(learner.userId, c.course.id);
    expect(await ds.getRepository(QuizAttempt).countBy({ enrolmentId: enrolment.id })).toBe(3);
    expect(enrolment.status).toBe('active');

    // Resource: downloads with its real name and type, which completes the last required lesson and the course.
    const download = await learner.get(`${base}/${c.resource.id}/download`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('text/csv');
    expect(download.headers['content-disposition']).toContain("filename*=UTF-8''Hazard%20log%20%E2%80%93%20template.csv");
    expect(download.body).toContain(',');
    const completed = await enrolmentOf(learner.userId, c.course.id);
    expect(completed.status).toBe('completed');
    expect(completed.progressPercent).toBe(100);
    expect(completed.completedAt).not.toBeNull();

    // The course.completed job ran (the optional lesson was not needed).
    await t.drainJobs();
    expect((await enrolmentOf(learner.userId, c.course.id)).completionRecordedAt).not.toBeNull();
    expect((await learner.get(`/courses/${c.course.slug}`)).body).toContain('Course complete');
    expect((await learner.get(`${base}/${c.optional.id}`)).body).toContain('Course complete');
  });

  it('serves the video with Range support so seeking works, and captions as WebVTT', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    const url = `/courses/${c.course.slug}/lessons/${c.video.id}/video`;
    const whole = await learner.get(url);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const size = Number(whole.headers['content-length']);
    expect(size).toBeGreaterThan(100_000);
    const part = await learner.get(url, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${size}`);
    expect(part.headers['content-length']).toBe('1000');
    expect((await learner.get(url, { range: `bytes=${size}-` })).status).toBe(416);
    const captions = await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}/captions.vtt`);
    expect(captions.headers['content-type']).toContain('text/vtt');
    expect(captions.body.startsWith('WEBVTT')).toBe(true);
  });

  it('resumes a video where the learner left off', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}`);
    expect((await heartbeat(learner, { lessonId: c.video.id, from: 20, to: 30 })).status).toBe(200);
    const again = await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}`);
    expect(again.body).toContain('data-resume-at="30"');
  });

  it('counts only real coverage: seeking to the end, replays and 16x playback do not complete a video', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}`);
    const beat = async (from: number, to: number, advanceMs: number) => {
      clock.travel(advanceMs);
      const answer = await heartbeat(learner, { lessonId: c.video.id, from, to });
      expect(answer.status).toBe(200);
      return answer.json();
    };
    await beat(0, 10, 10_000);
    expect((await beat(68, 73, 1_000)).coveredSeconds).toBe(15); // seeked to the end: only those 5 seconds
    for (let i = 0; i < 5; i++) await beat(0, 10, 10_000); // the same ten seconds, five times
    let result = await beat(10, 20, 10_000);
    expect(result.coveredSeconds).toBe(25);
    // 16x: every second of real time claims 16 seconds of video.
    for (let from = 20; from < 68; from += 16) result = await beat(from, Math.min(from + 16, 68), 1_000);
    expect(result.coveredSeconds).toBeLessThan(25 + 48);
    expect(result.lessonComplete).toBe(false);
    expect((await progressOf(learner.userId, c.course.id, c.video.id))!.completedAt).toBeNull();
  });

  it('merges concurrent heartbeats without losing or double-counting coverage', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}`);
    clock.travel(60_000);
    const claims = [[0, 10], [10, 20], [20, 30], [0, 10], [10, 20], [5, 25]];
    const answers = await Promise.all(claims.map(([from, to]) => heartbeat(learner, { lessonId: c.video.id, from, to })));
    expect(answers.map((a) => a.status)).toEqual(claims.map(() => 200));
    const row = await progressOf(learner.userId, c.course.id, c.video.id);
    expect(row!.coveredSeconds).toBe(30);
    expect(JSON.parse(row!.watchedIntervals!)).toEqual([[0, 30]]);
  });

  it('answers each heartbeat of a batch on its own: the refused change nothing, the rest are all written', async () => {
    const c = await fullCourse(t, author.userId);
    const other = await fullCourse(t, author.userId, 'Another course for batches');
    const [ann, bob] = [await enrolled(c.course), await enrolled(other.course)];
    clock.travel(60_000);
    const progress = t.app.get(ProgressService);
    // Submitted in one turn of the event loop, so they go in one batch, in this order.
    const settled = await Promise.allSettled([
      progress.heartbeat(ann.userId, { lessonId: c.video.id, from: 0, to: 10 }),
      progress.heartbeat(ann.userId, { lessonId: c.video.id, from: -5, to: 5 }),
      progress.heartbeat(ann.userId, { lessonId: c.text.id, from: 0, to: 10 }),
      progress.heartbeat(ann.userId, { lessonId: other.video.id, from: 0, to: 10 }),
      progress.heartbeat(ann.userId, { lessonId: 99_999_999, from: 0, to: 10 }),
      progress.heartbeat(bob.userId, { lessonId: other.video.id, from: 30, to: 45 }),
      progress.heartbeat(ann.userId, { lessonId: c.video.id, from: 10, to: 20 }),
    ]);
    const outcome = (s: PromiseSettledResult<unknown>) => (s.status === 'fulfilled' ? 'ok' : (s.reason as DomainError).kind);
    expect(settled.map(outcome)).toEqual(['ok', 'invalid', 'conflict', 'forbidden', 'not_found', 'ok', 'ok']);
    // Each answer is its own heartbeat's: Ann's second stretch sees her first, Bob's sees only his.
    const answer = (i: number) => (settled[i] as PromiseFulfilledResult<{ coveredSeconds: number }>).value;
    expect([answer(0).coveredSeconds, answer(5).coveredSeconds, answer(6).coveredSeconds]).toEqual([10, 15, 20]);
    expect(JSON.parse((await progressOf(ann.userId, c.course.id, c.video.id))!.watchedIntervals!)).toEqual([[0, 20]]);
    expect(JSON.parse((await progressOf(bob.userId, other.course.id, other.video.id))!.watchedIntervals!)).toEqual([[30, 45]]);
    expect(await progressOf(ann.userId, c.course.id, c.text.id)).toBeNull();
  });

  it('refuses bad heartbeats with a clear 4xx and changes nothing', async () => {
    const c = await fullCourse(t, author.userId);
    const other = await fullCourse(t, author.userId, 'Another course');
    const learner = await enrolled(c.course);
    await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}`);
    const cases: Array<[unknown, number, string]> = [
      [{ lessonId: c.video.id, from: -5, to: 5 }, 400, 'from must not be negative'],
      [{ lessonId: c.video.id, from: 20, to: 10 }, 400, 'to must be greater than from'],
      [{ lessonId: c.video.id, from: 10, to: 10 }, 400, 'to must be greater than from'],
      [{ lessonId: c.video.id, from: 0, to: 1e9 }, 400, 'at most 60 seconds'],
      [{ lessonId: c.video.id, from: 70, to: 120 }, 400, 'past the end of the video'],
      [{ lessonId: c.video.id, from: 'ten', to: 20 }, 400, 'from must be a number of seconds'],
      [{ lessonId: c.video.id, from: 0 }, 400, 'to must be a number of seconds'],
      [{ lessonId: 'x', from: 0, to: 10 }, 400, 'lessonId must be a whole number'],
      [{ lessonId: c.text.id, from: 0, to: 10 }, 409, 'not a video'],
      [{ lessonId: other.video.id, from: 0, to: 10 }, 403, 'Enrol on'],
      [{ lessonId: 99_999_999, from: 0, to: 10 }, 404, 'no lesson'],
    ];
    for (const [body, status, message] of cases) {
      const answer = await heartbeat(learner, body);
      expect({ body, status: answer.status }).toEqual({ body, status });
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.body).toContain(message);
    }
    expect(await progressOf(learner.userId, c.course.id, c.video.id)).toBeNull();
    // Without the CSRF header, a session cannot post progress (a bearer token needs none).
    expect((await learner.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from: 0, to: 10 } })).status).toBe(403);
  });

  it('grades quizzes through the API: every attempt kept, answers outside the quiz refused', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    const api = await t.apiClient(learner.email, learner.password);
    const [single, multiple] = c.questions;
    const url = `/api/v1/quizzes/${c.quiz.id}/attempts`;
    const failed = await api.request('POST', url, { json: { answers: { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id] } } });
    expect(failed.status).toBe(201);
    expect(failed.json()).toMatchObject({ score: 50, passed: false, passMark: 100 });
    // After a failure: which questions were wrong, never the right options (absent, not null), nor an explanation that names them.
    expect(failed.json().questions).toEqual([
      { questionId: single.id, correct: true, chosenOptionIds: [single.options[0].id], explanation: 'A hazard is a **potential** source of harm.' },
      { questionId: multiple.id, correct: false, chosenOptionIds: [multiple.options[0].id] },
    ]);
    expect(failed.body).not.toContain('correctOptionIds');
    const passed = await api.request('POST', url, { json: { answers: { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[1].id, multiple.options[0].id] } } });
    expect(passed.json()).toMatchObject({ score: 100, passed: true, lessonComplete: true });
    // After a pass: the right options and every explanation (the public contract).
    expect(passed.json().questions).toEqual([
      { questionId: single.id, correct: true, chosenOptionIds: [single.options[0].id], correctOptionIds: [single.options[0].id], explanation: 'A hazard is a **potential** source of harm.' },
      { questionId: multiple.id, correct: true, chosenOptionIds: [multiple.options[1].id, multiple.options[0].id], correctOptionIds: [multiple.options[0].id, multiple.options[1].id], explanation: 'Alerts and training both reduce risk.' },
    ]);
    // The OpenAPI document says so.
    const doc = (await t.visitor().get('/api/docs/openapi.json')).json();
    const feedback = doc.components.schemas.QuestionFeedbackResponse;
    expect(feedback.required).not.toContain('correctOptionIds');
    expect(feedback.properties.correctOptionIds.description).toContain('absent (not null) after a failed attempt');
    expect(doc.paths['/api/v1/quizzes/{lessonId}/attempts'].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/QuizAttemptResponse');

    const other = await fullCourse(t, author.userId, 'Other quiz course');
    const bad: Array<[string, unknown, number, string]> = [
      [url, { answers: { [single.id]: [single.options[0].id] } }, 400, 'Answer “Which are controls?”'],
      [url, { answers: { [single.id]: [single.options[0].id, single.options[1].id], [multiple.id]: [multiple.options[0].id] } }, 400, 'Choose one answer'],
      [url, { answers: { [single.id]: [multiple.options[0].id], [multiple.id]: [multiple.options[0].id] } }, 400, 'must be options of that question'],
      [url, { answers: { [other.questions[0].id]: [other.questions[0].options[0].id] } }, 400, 'is not part of this quiz'],
      [url, { answers: 'all of them' }, 400, 'answers must be an object'],
      [url, {}, 400, 'answers must be an object'],
      [`/api/v1/quizzes/${c.text.id}/attempts`, { answers: {} }, 409, 'not a quiz'],
      [`/api/v1/quizzes/${other.quiz.id}/attempts`, { answers: {} }, 403, 'Enrol on'],
    ];
    for (const [target, body, status, message] of bad) {
      const answer = await api.request('POST', target, { json: body });
      expect({ body, status: answer.status }).toEqual({ body, status });
      expect(answer.body).toContain(message);
    }
    const enrolment = await enrolmentOf(learner.userId, c.course.id);
    expect(await ds.getRepository(QuizAttempt).countBy({ enrolmentId: enrolment.id })).toBe(2);
  });

  it('completes text and resource lessons through the API, and explains why videos and quizzes cannot be', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    const api = await t.apiClient(learner.email, learner.password);
    const done = await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    expect(done.status).toBe(200);
    expect(done.json()).toEqual({ lessonComplete: true, courseComplete: false, progressPercent: 25 });
    expect((await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`)).json().progressPercent).toBe(25);
    expect((await api.request('POST', `/api/v1/lessons/${c.video.id}/complete`)).status).toBe(409);
    expect((await api.request('POST', `/api/v1/lessons/${c.quiz.id}/complete`)).status).toBe(409);
    expect((await api.request('POST', `/api/v1/lessons/abc/complete`)).status).toBe(404);
    expect((await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`)).json().progressPercent).toBe(50);
    const list = await api.get('/api/v1/enrolments');
    expect(list.json()[0]).toMatchObject({ courseId: c.course.id, status: 'active', progressPercent: 50 });
    expect((await t.visitor().request('POST', `/api/v1/lessons/${c.text.id}/complete`)).status).toBe(401);
  });

  it('keeps lessons to enrolled learners, and drafts to their author and admins', async () => {
    const c = await fullCourse(t, author.userId);
    const base = `/courses/${c.course.slug}/lessons`;
    const stranger = await t.signedIn('learner');
    const anonymous = await t.visitor().get(`${base}/${c.text.id}`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toContain('/sign-in?next=');
    const notEnrolled = await stranger.get(`${base}/${c.text.id}`);
    expect(notEnrolled.status).toBe(303);
    expect(notEnrolled.headers.location).toBe(`/courses/${c.course.slug}`);
    expect((await stranger.get(`${base}/${c.resource.id}/download`)).status).toBe(404);
    expect((await stranger.get(`${base}/${c.video.id}/video`)).status).toBe(404);

    const other = await fullCourse(t, author.userId, 'Unrelated');
    const learner = await enrolled(c.course);
    expect((await learner.get(`${base}/${other.text.id}`)).status).toBe(404); // a lesson of another course
    expect((await learner.get(`${base}/not-a-number`)).status).toBe(404);

    // Withdrawn: lessons closed, progress refused; re-enrolled: progress still there.
    await learner.submit(`${base}/${c.text.id}/complete`, {});
    await learner.submit(`/courses/${c.course.slug}/withdraw`, {});
    expect((await learner.get(`${base}/${c.text.id}`)).status).toBe(303);
    expect((await heartbeat(learner, { lessonId: c.video.id, from: 0, to: 10 })).status).toBe(403);
    await learner.submit(`/courses/${c.course.slug}/enrol`, {});
    expect((await enrolmentOf(learner.userId, c.course.id)).progressPercent).toBe(25);

    // A draft: 404 to learners (even enrolled ones), a preview to its author, no progress recorded.
    await ds.getRepository(Course).update({ id: c.course.id }, { status: 'draft' });
    expect((await learner.get(`${base}/${c.text.id}`)).status).toBe(404);
    expect((await heartbeat(learner, { lessonId: c.video.id, from: 0, to: 10 })).status).toBe(404);
    const preview = await author.get(`${base}/${c.text.id}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toContain('You are previewing this lesson');
    expect(preview.body).not.toContain('Mark as complete');
    const otherAuthor = await t.signedIn('author');
    expect((await otherAuthor.get(`${base}/${c.text.id}`)).status).toBe(404);
    expect((await (await t.signedIn('admin')).get(`${base}/${c.text.id}`)).status).toBe(200);
  });

  it('re-enqueues a completion whose job was lost, and recording it twice changes nothing', async () => {
    const c = await fullCourse(t, author.userId);
    const learner = await enrolled(c.course);
    const enrolment = await enrolmentOf(learner.userId, c.course.id);
    const past = new Date(clock.now().getTime() - 10 * 60_000);
    await ds.getRepository(Enrolment).update({ id: enrolment.id }, { status: 'completed', completedAt: past, progressPercent: 100 });
    await t.drainJobs();
    expect((await enrolmentOf(learner.userId, c.course.id)).completionRecordedAt).toBeNull();
    const { ProgressService } = await import('../../src/learning/progress.service');
    const progress = t.app.get(ProgressService);
    expect(await progress.sweepCompletions()).toBeGreaterThanOrEqual(1);
    await t.drainJobs();
    const recorded = (await enrolmentOf(learner.userId, c.course.id)).completionRecordedAt;
    expect(recorded).not.toBeNull();
    await progress.recordCompletion(enrolment.id);
    expect((await enrolmentOf(learner.userId, c.course.id)).completionRecordedAt).toEqual(recorded);
  });
});
