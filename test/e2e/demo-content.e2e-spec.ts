import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CourseDefinition, CourseImporter } from '../../src/catalogue/course-importer';
import { copyDemoFiles, DEMO_CONTENT_DIR, seedDemoCourses } from '../../src/demo/demo.seeder';
import { seedDemoWebinars, webinarDefinitions } from '../../src/demo/webinar-seeder';
import { FileStorage } from '../../src/storage/file-storage';
import { startTestApp, TestApp } from '../support/app';

const definitions: CourseDefinition[] = readdirSync(join(DEMO_CONTENT_DIR, 'courses'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(DEMO_CONTENT_DIR, 'courses', f), 'utf8')));

describe('demo courses (content written by the project)', () => {
  it('has at least six courses, each with text lessons, a resource, a required quiz, and one with a real video', () => {
    expect(definitions.length).toBeGreaterThanOrEqual(6);
    for (const course of definitions) {
      const lessons = course.modules.flatMap((m) => m.lessons);
      expect(lessons.filter((l) => l.kind === 'text').length).toBeGreaterThanOrEqual(2);
      expect(lessons.some((l) => l.kind === 'resource')).toBe(true);
      expect(lessons.some((l) => l.kind === 'quiz' && l.required)).toBe(true);
      expect(course.description).not.toMatch(/lorem ipsum/i);
    }
    const videos = definitions.flatMap((c) => c.modules.flatMap((m) => m.lessons)).filter((l) => l.kind === 'video');
    expect(videos.length).toBeGreaterThanOrEqual(1);
    for (const video of videos) {
      if (video.kind !== 'video') continue;
      const file = join(DEMO_CONTENT_DIR, video.video);
      expect(readFileSync(file).subarray(4, 8).toString('latin1')).toBe('ftyp');
      expect(statSync(file).size).toBeLessThan(3 * 1024 * 1024);
    }
  });

  it('has quiz questions a learner can answer: one right option for single choice, two or more for multiple', () => {
    for (const lesson of definitions.flatMap((c) => c.modules.flatMap((m) => m.lessons))) {
      if (lesson.kind === 'resource') expect(existsSync(join(DEMO_CONTENT_DIR, lesson.file))).toBe(true);
      if (lesson.kind !== 'quiz') continue;
      expect(lesson.passMark).toBeGreaterThan(0);
      for (const question of lesson.questions) {
        const right = question.options.filter((o) => o.correct).length;
        if (question.multiple) expect(right).toBeGreaterThanOrEqual(2);
        else expect(right).toBe(1);
        expect(question.explanation.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('seeding the demo courses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('imports every course once, published, with its syllabus and quiz, and finds them in the catalogue', async () => {
    const author = await t.signedIn('author');
    const importer = t.app.get(CourseImporter);
    expect(await seedDemoCourses(importer, t.app.get(FileStorage), author.userId)).toBe(definitions.length);
    expect(await seedDemoCourses(importer, t.app.get(FileStorage), author.userId)).toBe(0);
    const listed = (await t.visitor().get('/api/v1/courses')).json();
    expect(listed.total).toBe(definitions.length);
    const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM quiz_options');
    expect(Number(n)).toBeGreaterThan(definitions.length * 10);
    const first = definitions[0];
    const page = await t.visitor().get(`/courses/${first.slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(first.modules[0].lessons[0].title.replace(/&/g, '&amp;').replace(/'/g, '&#x27;'));
  });

  it('creates the demo webinars once: at least three upcoming and one past with its recording, listed by the API', async () => {
    const author = await t.signedIn('author');
    const storage = t.app.get(FileStorage);
    await copyDemoFiles(storage);
    const dir = join(DEMO_CONTENT_DIR, 'webinars');
    const definitions = webinarDefinitions(dir);
    for (const webinar of definitions) expect(`${webinar.title} ${webinar.summary} ${webinar.description}`).not.toMatch(/lorem ipsum/i);
    expect(await seedDemoWebinars(t.app.get(DataSource), storage, author.userId, dir, new Date())).toBe(definitions.length);
    expect(await seedDemoWebinars(t.app.get(DataSource), storage, author.userId, dir, new Date())).toBe(0);
    const upcoming = (await t.visitor().get('/api/v1/webinars?when=upcoming')).json();
    expect(upcoming.total).toBeGreaterThanOrEqual(3);
    expect(upcoming.items.every((w: { phase: string }) => w.phase === 'scheduled')).toBe(true);
    const past = (await t.visitor().get('/api/v1/webinars?when=past')).json();
    expect(past.total).toBeGreaterThanOrEqual(1);
    const recorded = past.items.find((w: { hasRecording: boolean }) => w.hasRecording);
    expect(recorded).toBeDefined();
    const detail = (await t.visitor().get(`/api/v1/webinars/${recorded.slug}`)).json();
    expect(detail.recording).toEqual({ kind: 'video', durationSeconds: expect.any(Number) });
    expect(detail.recording.durationSeconds).toBeGreaterThan(30);
    expect(detail.presenters.length).toBeGreaterThanOrEqual(2);
    // The recording plays with captions, for a signed-in learner.
    const learner = await t.signedIn('learner');
    expect((await learner.get(`/webinars/${recorded.slug}`)).body).toContain(`src="/webinars/${recorded.slug}/recording/captions.vtt"`);
    const captions = await learner.get(`/webinars/${recorded.slug}/recording/captions.vtt`);
    expect(captions.status).toBe(200);
    expect(captions.body).toMatch(/^WEBVTT/);
  });
});
