import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import { CourseModule } from '../../src/catalogue/entities/course-module.entity';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { QuizOption, QuizQuestion } from '../../src/catalogue/entities/quiz-question.entity';
import { DEMO_CONTENT_DIR } from '../../src/demo/demo.seeder';
import { Answer, MultipartPart, startTestApp, TestApp, Visitor } from '../support/app';

const MP4 = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.mp4'));
const VTT = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.vtt'));
const CSV = readFileSync(join(DEMO_CONTENT_DIR, 'resources', 'hazard-log-template.csv'));
/** The first bytes of a WebM (EBML header) and some filler: enough for the content check. */
const WEBM = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]), Buffer.alloc(2000, 0x42)]);
/** A Windows executable's first bytes. */
const EXE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(3000, 0)]);

const file = (filename: string, content: Buffer | string, contentType = 'application/octet-stream'): MultipartPart => ({ name: 'file', filename, content, contentType });
const idIn = (answer: Answer, pattern: RegExp) => Number(pattern.exec(String(answer.headers.location))?.[1]);

/** The course's details as the edit form sends them, once the course exists. */
const COURSE_DETAILS = { title: 'Hazard logs in practice', summary: 'Keep a hazard log that stands up to DCB0129', description: 'How to log a hazard.', whoFor: 'Clinical safety officers', level: 'intermediate', cpdHours: '2' };

describe('course authoring', () => {
  let t: TestApp;
  let author: Visitor & { userId: number };
  let otherAuthor: Visitor & { userId: number };
  let learner: Visitor & { userId: number };
  let admin: Visitor & { userId: number };
  let courseId: number;
  const modules: Record<string, number> = {};
  const lessons: Record<string, number> = {};
  const ds = () => t.app.get(DataSource);
  const course = () => ds().getRepository(Course).findOneByOrFail({ id: courseId });
  const lesson = (id: number) => ds().getRepository(Lesson).findOneByOrFail({ id });
  const filesDir = () => join(t.engines.dataDir, 'files');
  /** Every file in storage, with its size. */
  const storedFiles = () => {
    const list: string[] = [];
    const walk = (dir: string) => {
      for (const entry of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else list.push(`${relative(filesDir(), path)} ${statSync(path).size}`);
      }
    };
    walk(filesDir());
    return list.sort();
  };
  /** Titles of the course's lessons in syllabus order (modules by position, then lessons by position). */
  const syllabus = async () => {
    const rows: Array<{ title: string; module: string; position: number }> = await ds()
      .getRepository(Lesson)
      .createQueryBuilder('l')
      .innerJoin('l.module', 'm')
      .select(['l.title AS title', 'm.title AS module', 'l.position AS position'])
      .where('l.courseId = :courseId', { courseId })
      .orderBy('m.position', 'ASC')
      .addOrderBy('l.position', 'ASC')
      .getRawMany();
    return rows.map((r) => `${r.module}: ${r.title}`);
  };

  beforeAll(async () => {
    // A 1 MB limit: the demo MP4 (880 kB) fits, a 1.5 MB file does not.
    t = await startTestApp({ UPLOAD_MAX_MB: '1' });
    author = await t.signedIn('author', { name: 'Ada Author' });
    otherAuthor = await t.signedIn('author', { name: 'Otto Other' });
    learner = await t.signedIn('learner');
    admin = await t.signedIn('admin');
  });
  afterAll(() => t.close());

  describe('building a course', () => {
    it('creates a course as a draft, refusing bad details with the NHS error summary and keeping what was typed', async () => {
      const list = await author.get('/author/courses');
      expect(list.status).toBe(200);
      expect(list.body).toContain('Your courses');
      expect(list.body).toMatch(/href="\/author\/courses"[^>]*aria-current="page"|aria-current="page"[^>]*href="\/author\/courses"/);
      expect((await author.get('/author/courses/new')).status).toBe(200);

      const refused = await author.submit('/author/courses', { title: '', summary: 'Keeps this summary', cpdHours: 'lots', level: 'expert' });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('There is a problem');
      for (const message of ['Enter a title', 'Choose a topic, or enter a new one', 'Choose a level', 'Enter the CPD hours as a number']) expect(refused.body).toContain(message);
      expect(refused.body).toContain('value="Keeps this summary"');
      expect(await ds().getRepository(Course).count()).toBe(0);

      const created = await author.submit('/author/courses', {
        title: 'Hazard logs in practice',
        summary: 'Keep a hazard log that stands up to DCB0129',
        description: '## What you will learn\n\nHow to **log** a hazard.',
        whoFor: 'Clinical safety officers',
        newTopic: 'Clinical safety',
        level: 'intermediate',
        cpdHours: '1.5',
      });
      expect(created.status).toBe(303);
      courseId = idIn(created, /\/author\/courses\/(\d+)/);
      const saved = await course();
      expect(saved).toMatchObject({ slug: 'hazard-logs-in-practice', status: 'draft', authorId: author.userId, cpdMinutes: 90, level: 'intermediate', estimatedMinutes: 0, publishedAt: null });
      const page = await author.get(String(created.headers.location));
      expect(page.status).toBe(200);
      expect(page.body).toContain('Course created');
      expect(page.body).toContain('Draft');
      expect(page.body).toContain(`href="/courses/hazard-logs-in-practice"`);

      // A second course with the same title gets its own web address.
      const again = await author.submit('/author/courses', { title: 'Hazard logs in practice', summary: 'Copy', topicId: String(saved.topicId), level: 'introductory', cpdHours: '1' });
      expect(again.status).toBe(303);
      expect((await ds().getRepository(Course).findOneByOrFail({ id: idIn(again, /\/author\/courses\/(\d+)/) })).slug).toBe('hazard-logs-in-practice-2');
    });

    it('edits the details; the web address can change while the course is a draft, never to one in use', async () => {
      await author.get(`/author/courses/${courseId}`);
      const details = COURSE_DETAILS;
      const topicId = String((await course()).topicId);
      const taken = await author.submit(`/author/courses/${courseId}`, { ...details, topicId, slug: 'hazard-logs-in-practice-2' });
      expect(taken.status).toBe(400);
      expect(taken.body).toContain('That web address is already used by another course');
      const bad = await author.submit(`/author/courses/${courseId}`, { ...details, topicId, slug: 'Not A Slug!' });
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('Web address must be lower-case letters');
      expect(bad.body).toContain('value="Not A Slug!"');
      const saved = await author.submit(`/author/courses/${courseId}`, { ...details, topicId, slug: 'hazard-logs' });
      expect(saved.status).toBe(303);
      expect(await course()).toMatchObject({ slug: 'hazard-logs', cpdMinutes: 120, description: 'How to log a hazard.' });
    });

    it('adds modules and lessons of every kind; each lesson belongs to its module’s course, and the course length is the sum of the lessons', async () => {
      await author.get(`/author/courses/${courseId}`);
      const empty = await author.submit(`/author/courses/${courseId}/modules`, { moduleTitle: '  ' });
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('Enter a title');
      for (const title of ['Getting started', 'Going further']) {
        const added = await author.submit(`/author/courses/${courseId}/modules`, { moduleTitle: title });
        expect(added.status).toBe(303);
        modules[title] = idIn(added, /#module-(\d+)/);
      }
      const add = async (moduleTitle: string, title: string, kind: string) => {
        const moduleId = modules[moduleTitle];
        const answer = await author.submit(`/author/modules/${moduleId}/lessons`, { [`lessonTitle-${moduleId}`]: title, [`lessonKind-${moduleId}`]: kind });
        expect(answer.status).toBe(303);
        lessons[title] = idIn(answer, /\/author\/lessons\/(\d+)/);
      };
      await add('Getting started', 'Why hazards matter', 'text');
      await add('Getting started', 'What is a clinical hazard?', 'video');
      await add('Going further', 'Hazard log template', 'resource');
      await add('Going further', 'Check your understanding', 'quiz');
      const noKind = await author.submit(`/author/modules/${modules['Going further']}/lessons`, { [`lessonTitle-${modules['Going further']}`]: 'Odd one', [`lessonKind-${modules['Going further']}`]: 'podcast' });
      expect(noKind.status).toBe(400);
      expect(noKind.body).toContain('Choose the kind of lesson');
      expect(noKind.body).toContain('value="Odd one"');

      const rows = await ds().getRepository(Lesson).find({ where: { courseId } });
      expect(rows.map((l) => l.kind).sort()).toEqual(['quiz', 'resource', 'text', 'video']);
      expect(rows.find((l) => l.kind === 'quiz')!.passMark).toBe(80);
      const [{ n: mismatched }] = await ds().query('SELECT COUNT(*) AS n FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE l.course_id <> m.course_id');
      expect(Number(mismatched)).toBe(0);
      expect((await course()).estimatedMinutes).toBe(20);
      expect(await syllabus()).toEqual(['Getting started: Why hazards matter', 'Getting started: What is a clinical hazard?', 'Going further: Hazard log template', 'Going further: Check your understanding']);

      await author.get(`/author/lessons/${lessons['Why hazards matter']}`);
      const refused = await author.submit(`/author/lessons/${lessons['Why hazards matter']}`, { title: 'Why hazards matter', minutes: 'ten', body: 'Kept text' });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('Enter the minutes as a whole number');
      expect(refused.body).toContain('Kept text');
      const saved = await author.submit(`/author/lessons/${lessons['Why hazards matter']}`, { title: 'Why hazards matter', minutes: '12', required: 'yes', body: '## Harm\n\nA hazard is a **potential** source of harm. <script>alert(1)</script>' });
      expect(saved.status).toBe(303);
      expect(await lesson(lessons['Why hazards matter'])).toMatchObject({ minutes: 12, required: true });
      expect((await course()).estimatedMinutes).toBe(27);
      const page = await author.get(`/author/lessons/${lessons['Why hazards matter']}`);
      expect(page.body).toContain('<strong>potential</strong>');
      expect(page.body).not.toContain('<script>alert(1)</script>');
      const quiz = await author.submit(`/author/lessons/${lessons['Check your understanding']}`, { title: 'Check your understanding', minutes: '5', required: 'yes', passMark: '101' });
      expect(quiz.status).toBe(400);
      expect(quiz.body).toContain('Pass mark must be between 1 and 100');
    });

    it('reorders modules and lessons with Move up and Move down buttons, a lesson crossing into the next module', async () => {
      const page = await author.get(`/author/courses/${courseId}`);
      expect(page.body).toContain(`action="/author/lessons/${lessons['Hazard log template']}/move"`);
      const move = (kind: 'lessons' | 'modules', id: number, direction: 'up' | 'down') => author.submit(`/author/${kind}/${id}/move`, { direction });

      expect((await move('lessons', lessons['Hazard log template'], 'up')).status).toBe(303);
      expect(await syllabus()).toEqual([
        'Getting started: Why hazards matter',
        'Getting started: What is a clinical hazard?',
        'Getting started: Hazard log template',
        'Going further: Check your understanding',
      ]);
      expect((await move('lessons', lessons['Hazard log template'], 'up')).status).toBe(303);
      expect((await move('lessons', lessons['Why hazards matter'], 'up')).status).toBe(303); // already first: nothing moves
      expect(await syllabus()).toEqual([
        'Getting started: Why hazards matter',
        'Getting started: Hazard log template',
        'Getting started: What is a clinical hazard?',
        'Going further: Check your understanding',
      ]);
      await move('lessons', lessons['Hazard log template'], 'down');
      await move('lessons', lessons['Hazard log template'], 'down');
      expect(await syllabus()).toEqual([
        'Getting started: Why hazards matter',
        'Getting started: What is a clinical hazard?',
        'Going further: Hazard log template',
        'Going further: Check your understanding',
      ]);

      expect((await move('modules', modules['Going further'], 'up')).status).toBe(303);
      expect((await syllabus())[0]).toBe('Going further: Hazard log template');
      const reordered = await author.get(`/author/courses/${courseId}`);
      expect(reordered.body.indexOf('Going further')).toBeLessThan(reordered.body.indexOf('Getting started'));
      await move('modules', modules['Going further'], 'down');
      expect((await syllabus())[0]).toBe('Getting started: Why hazards matter');

      // Positions run 1…n through the whole syllabus, and every lesson stays in its own course.
      const rows = await ds().getRepository(Lesson).find({ where: { courseId }, order: { position: 'ASC' } });
      expect(rows.map((l) => l.position)).toEqual([1, 2, 3, 4]);
      expect(rows.map((l) => l.title)).toEqual((await syllabus()).map((s) => s.split(': ')[1]));
      const [{ n: mismatched }] = await ds().query('SELECT COUNT(*) AS n FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE l.course_id <> m.course_id');
      expect(Number(mismatched)).toBe(0);
    });

    it('writes quiz questions: single and multiple choice, validated, edited in place, reordered and deleted', async () => {
      const quizId = lessons['Check your understanding'];
      expect((await author.get(`/author/lessons/${quizId}/questions/new`)).status).toBe(200);
      expect((await author.get(`/author/lessons/${lessons['Why hazards matter']}/questions/new`)).status).toBe(404);

      const refused = await author.submit(`/author/lessons/${quizId}/questions`, { prompt: '', answerType: 'single', option1: 'Only one answer' });
      expect(refused.status).toBe(400);
      for (const message of ['Enter the question', 'Give at least two answers', 'Mark the correct answer']) expect(refused.body).toContain(message);
      expect(refused.body).toContain('value="Only one answer"');
      const post = (form: Record<string, string | string[]>) => author.request('POST', `/author/lessons/${quizId}/questions`, { raw: formBody({ _csrf: author.csrf, ...form }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const twoRight = await post({ prompt: 'Which is a hazard?', answerType: 'single', option1: 'A', option2: 'B', correct: ['1', '2'] });
      expect(twoRight.status).toBe(400);
      expect(twoRight.body).toContain('Mark exactly one correct answer');
      const emptyTicked = await post({ prompt: 'Which is a hazard?', answerType: 'single', option1: 'A', option2: 'B', correct: ['1', '4'] });
      expect(emptyTicked.status).toBe(400);
      expect(emptyTicked.body).toContain('Answer 4 is marked as correct but is empty');
      expect(await ds().getRepository(QuizQuestion).count({ where: { lessonId: quizId } })).toBe(0);

      expect((await post({ prompt: 'What is a clinical hazard?', answerType: 'single', option1: 'A potential source of harm to a patient', option2: 'A software bug', option3: 'A risk score', correct: '1', explanation: 'DCB0129 defines it so.' })).status).toBe(303);
      expect((await post({ prompt: 'Which standards apply to health IT?', answerType: 'multiple', option1: 'DCB0129', option2: 'DCB0160', option3: 'ISO 9001', correct: ['1', '2'] })).status).toBe(303);
      const questions = await ds().getRepository(QuizQuestion).find({ where: { lessonId: quizId }, order: { position: 'ASC' } });
      expect(questions.map((q) => [q.position, q.multiple])).toEqual([
        [1, false],
        [2, true],
      ]);
      const options = await ds().getRepository(QuizOption).find({ where: { questionId: questions[1].id }, order: { position: 'ASC' } });
      expect(options.map((o) => [o.text, o.correct])).toEqual([
        ['DCB0129', true],
        ['DCB0160', true],
        ['ISO 9001', false],
      ]);

      // Edited in place: the answers that remain keep their ids.
      const edit = await author.get(`/author/questions/${questions[0].id}`);
      expect(edit.status).toBe(200);
      expect(edit.body).toContain('A potential source of harm to a patient');
      expect(
        (await author.submit(`/author/questions/${questions[0].id}`, { prompt: 'What is a clinical hazard?', answerType: 'single', option1: 'A potential source of harm to a patient', option2: 'A software defect', correct: '1', explanation: 'See DCB0129.' })).status,
      ).toBe(303);
      const edited = await ds().getRepository(QuizOption).find({ where: { questionId: questions[0].id }, order: { position: 'ASC' } });
      expect(edited.map((o) => o.text)).toEqual(['A potential source of harm to a patient', 'A software defect']);
      expect(edited[0].id).toBeLessThan(edited[1].id);

      expect((await author.submit(`/author/questions/${questions[1].id}/move`, { direction: 'up' })).status).toBe(303);
      expect((await ds().getRepository(QuizQuestion).find({ where: { lessonId: quizId }, order: { position: 'ASC' } })).map((q) => q.id)).toEqual([questions[1].id, questions[0].id]);

      expect((await post({ prompt: 'A question to delete', answerType: 'single', option1: 'Yes', option2: 'No', correct: '2' })).status).toBe(303);
      const third = await ds().getRepository(QuizQuestion).findOneByOrFail({ prompt: 'A question to delete' });
      expect((await author.submit(`/author/questions/${third.id}/delete`, {})).status).toBe(303);
      expect(await ds().getRepository(QuizOption).count({ where: { questionId: third.id } })).toBe(0);
      const page = await author.get(`/author/lessons/${quizId}`);
      expect(page.body).toContain('Question 2');
      expect(page.body).not.toContain('A question to delete');
    });
  });

  describe('uploads', () => {
    it('stores a WebM with the length its author gives, and refuses a WebM without one', async () => {
      const videoId = lessons['What is a clinical hazard?'];
      await author.get(`/author/lessons/${videoId}`);
      const before = storedFiles();
      const noLength = await author.upload(`/author/lessons/${videoId}/file`, [file('talk.webm', WEBM, 'video/webm')]);
      expect(noLength.status).toBe(400);
      expect(noLength.body).toContain('Enter the length of the WebM video in whole seconds');
      expect(storedFiles()).toEqual(before);
      const stored = await author.upload(`/author/lessons/${videoId}/file`, [{ name: 'videoSeconds', value: '95' }, file('talk.webm', WEBM, 'video/webm')]);
      expect(stored.status).toBe(303);
      expect(await lesson(videoId)).toMatchObject({ fileType: 'video/webm', fileName: 'talk.webm', videoSeconds: 95 });
    });

    it('stores a real MP4, reads its length (73 s) from the movie header, and removes the file it replaces', async () => {
      const videoId = lessons['What is a clinical hazard?'];
      const webmKey = (await lesson(videoId)).fileKey!;
      await author.get(`/author/lessons/${videoId}`);
      const answer = await author.upload(`/author/lessons/${videoId}/file`, [file('What is a clinical hazard.mp4', MP4, 'video/mp4')]);
      expect(answer.status).toBe(303);
      const saved = await lesson(videoId);
      expect(saved).toMatchObject({ fileType: 'video/mp4', fileName: 'What is a clinical hazard.mp4', videoSeconds: 73 });
      expect(saved.fileKey).toMatch(new RegExp(`^lessons/${videoId}/[\\w-]+\\.mp4$`));
      expect(readFileSync(join(filesDir(), saved.fileKey!)).equals(MP4)).toBe(true);
      expect(existsSync(join(filesDir(), webmKey))).toBe(false);
      const page = await author.get(`/author/lessons/${videoId}`);
      expect(page.body).toContain('1:13 (73 seconds)');

      const captions = await author.upload(`/author/lessons/${videoId}/captions`, [{ name: 'captions', filename: 'captions.vtt', content: VTT, contentType: 'text/vtt' }]);
      expect(captions.status).toBe(303);
      expect((await lesson(videoId)).captionsKey).toMatch(/\.vtt$/);
    });

    it('stores a CSV resource under its uploaded name (made safe) and replaces it', async () => {
      const resourceId = lessons['Hazard log template'];
      await author.get(`/author/lessons/${resourceId}`);
      const first = await author.upload(`/author/lessons/${resourceId}/file`, [file('Hazard log: template.csv', CSV, 'text/csv')]);
      expect(first.status).toBe(303);
      const saved = await lesson(resourceId);
      expect(saved).toMatchObject({ fileType: 'text/csv', fileName: 'Hazard log_ template.csv', videoSeconds: null });
      expect(readFileSync(join(filesDir(), saved.fileKey!)).equals(CSV)).toBe(true);
      const second = await author.upload(`/author/lessons/${resourceId}/file`, [file('Hazard log template.csv', 'id,hazard\n1,Wrong patient\n', 'text/csv')]);
      expect(second.status).toBe(303);
      expect(existsSync(join(filesDir(), saved.fileKey!))).toBe(false);
      expect((await lesson(resourceId)).fileName).toBe('Hazard log template.csv');
    });

    it('refuses mislabelled, unknown, missing and oversized files with a clear 4xx, and changes nothing', async () => {
      const resourceId = lessons['Hazard log template'];
      const videoId = lessons['What is a clinical hazard?'];
      await author.get(`/author/lessons/${resourceId}`);
      const rowsBefore = [await lesson(resourceId), await lesson(videoId)];
      const filesBefore = storedFiles();

      const exe = await author.upload(`/author/lessons/${resourceId}/file`, [file('template.pdf', EXE, 'application/pdf')]);
      expect(exe.status).toBe(400);
      expect(exe.body).toContain('There is a problem');
      expect(exe.body).toContain('The file&#x27;s contents are not a PDF, although its name ends in .pdf');

      const text = await author.upload(`/author/lessons/${videoId}/file`, [file('lecture.mp4', 'This is plain text, not a video at all. '.repeat(200), 'video/mp4')]);
      expect(text.status).toBe(400);
      expect(text.body).toContain('not a MP4 video');

      const unknown = await author.upload(`/author/lessons/${resourceId}/file`, [file('tool.exe', EXE)]);
      expect(unknown.status).toBe(400);
      expect(unknown.body).toContain('The selected file must be a PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), CSV or ZIP file');

      const none = await author.upload(`/author/lessons/${resourceId}/file`, [file('', Buffer.alloc(0))]);
      expect(none.status).toBe(400);
      expect(none.body).toContain('Select a PDF');

      const empty = await author.upload(`/author/lessons/${resourceId}/file`, [file('empty.csv', Buffer.alloc(0), 'text/csv')]);
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('The selected file is empty');

      const notCaptions = await author.upload(`/author/lessons/${videoId}/captions`, [{ name: 'captions', filename: 'captions.vtt', content: 'Hello there\n', contentType: 'text/vtt' }]);
      expect(notCaptions.status).toBe(400);
      expect(notCaptions.body).toContain('not a WebVTT captions');

      // Over the 1 MB limit: refused as it streams, with the limit named.
      const big = Buffer.alloc(1536 * 1024, 'a');
      const tooLarge = await author.upload(`/author/lessons/${resourceId}/file`, [file('huge.csv', big, 'text/csv')]);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body).toContain('The selected file must be smaller than 1 MB');
      expect(tooLarge.body).toContain('There is a problem');
      const bigVideo = Buffer.concat([MP4, MP4]);
      const tooLong = await author.upload(`/author/lessons/${videoId}/file`, [file('long.mp4', bigVideo, 'video/mp4')]);
      expect(tooLong.status).toBe(413);

      expect([await lesson(resourceId), await lesson(videoId)]).toEqual(rowsBefore);
      expect(storedFiles()).toEqual(filesBefore);
      expect(storedFiles().some((f) => f.includes('.partial'))).toBe(false);
    });

    it('refuses a multipart form without the CSRF token (or with it after the file), storing nothing', async () => {
      const resourceId = lessons['Hazard log template'];
      const filesBefore = storedFiles();
      const rowBefore = await lesson(resourceId);
      const without = await author.upload(`/author/lessons/${resourceId}/file`, [file('sneaky.csv', CSV, 'text/csv')], { withCsrf: false });
      expect(without.status).toBe(403);
      expect(without.body).toContain('This form has expired or did not come from this site');
      const wrong = await author.request('POST', `/author/lessons/${resourceId}/file`, { multipart: [{ name: '_csrf', value: 'not-the-token' }, file('sneaky.csv', CSV, 'text/csv')] });
      expect(wrong.status).toBe(403);
      await author.get(`/author/lessons/${resourceId}`);
      const late = await author.request('POST', `/author/lessons/${resourceId}/file`, { multipart: [file('sneaky.csv', CSV, 'text/csv'), { name: '_csrf', value: author.csrf }] });
      expect(late.status).toBe(403);
      expect(storedFiles()).toEqual(filesBefore);
      expect(await lesson(resourceId)).toEqual(rowBefore);
    });

    it('answers a cut-short multipart form with 400, whether it stops before the file or inside it', async () => {
      const resourceId = lessons['Hazard log template'];
      await author.get(`/author/lessons/${resourceId}`);
      const filesBefore = storedFiles();
      const rowBefore = await lesson(resourceId);
      const send = (raw: string) => author.request('POST', `/author/lessons/${resourceId}/file`, { raw, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
      const inHead = await send(`--XyZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${author.csrf}`);
      expect(inHead.status).toBe(400);
      expect(inHead.body).toContain('The form could not be read');
      const inFile = await send(`--XyZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${author.csrf}\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\nContent-Type: text/csv\r\n\r\nid,hazard\n1,Wrong`);
      expect(inFile.status).toBe(400);
      expect(inFile.body).toContain('The upload did not finish');
      expect(storedFiles()).toEqual(filesBefore);
      expect(await lesson(resourceId)).toEqual(rowBefore);
    });
  });

  describe('publishing', () => {
    it('blocks publishing with a list of everything to fix', async () => {
      const draft = await author.submit('/author/courses', { title: 'Unfinished course', summary: 'Not ready', newTopic: 'Clinical safety', level: 'introductory', cpdHours: '1' });
      const draftId = idIn(draft, /\/author\/courses\/(\d+)/);
      await author.get(`/author/courses/${draftId}`);
      const nothing = await author.submit(`/author/courses/${draftId}/publish`, {});
      expect(nothing.status).toBe(400);
      expect(nothing.body).toContain('There is a problem');
      for (const message of ['Add at least one lesson', 'Write a description of the course', 'Say who the course is for']) expect(nothing.body).toContain(message);

      const moduleId = idIn(await author.submit(`/author/courses/${draftId}/modules`, { moduleTitle: 'Only module' }), /#module-(\d+)/);
      await author.submit(`/author/courses/${draftId}/modules`, { moduleTitle: 'Empty module' });
      for (const [title, kind] of [
        ['Reading', 'text'],
        ['Watching', 'video'],
        ['Downloading', 'resource'],
        ['Answering', 'quiz'],
      ]) {
        await author.submit(`/author/modules/${moduleId}/lessons`, { [`lessonTitle-${moduleId}`]: title, [`lessonKind-${moduleId}`]: kind });
      }
      const blocked = await author.submit(`/author/courses/${draftId}/publish`, {});
      expect(blocked.status).toBe(400);
      for (const message of [
        '“Reading”: write the text of the lesson',
        '“Watching”: upload the video',
        '“Downloading”: upload the file learners will download',
        '“Answering”: add at least one question',
        'Module “Empty module” has no lessons',
      ]) {
        expect(blocked.body).toContain(message);
      }
      expect(blocked.body).toMatch(/<a href="\/author\/lessons\/\d+">“Watching”: upload the video<\/a>/);
      expect((await ds().getRepository(Course).findOneByOrFail({ id: draftId })).status).toBe('draft');
    });

    it('publishes a complete course: learners find it in the catalogue', async () => {
      await author.get(`/author/courses/${courseId}`);
      const whoFor = await author.submit(`/author/courses/${courseId}`, { ...COURSE_DETAILS, slug: 'hazard-logs', topicId: String((await course()).topicId) });
      expect(whoFor.status).toBe(303);
      expect((await t.visitor().get('/courses/hazard-logs')).status).toBe(404);
      const published = await author.submit(`/author/courses/${courseId}/publish`, {});
      expect(published.status).toBe(303);
      const saved = await course();
      expect(saved.status).toBe('published');
      expect(saved.publishedAt).toBeInstanceOf(Date);
      expect(published.headers.location).toBe(`/author/courses/${courseId}?notice=published`);
      const page = await author.get(String(published.headers.location));
      expect(page.body).toContain('The course is published');
      expect(page.body).toContain('nhsuk-tag--green');

      const catalogue = await t.visitor().get('/courses');
      expect(catalogue.body).toContain('Hazard logs in practice');
      const api = (await t.visitor().get('/api/v1/courses?q=hazard')).json();
      expect(api.items.map((c: { slug: string }) => c.slug)).toEqual(['hazard-logs']);
      expect(api.items[0]).toMatchObject({ estimatedMinutes: 27, cpdHours: 2 });
      const learnerPage = await learner.get('/courses/hazard-logs');
      expect(learnerPage.status).toBe(200);
      expect(learnerPage.body).toContain('What is a clinical hazard?');
      expect(learnerPage.body).not.toContain('Preview');
    });

    it('keeps the web address once published, and unpublishing archives the course: 404 to learners, a preview to its author', async () => {
      await author.get(`/author/courses/${courseId}`);
      const slugChange = await author.submit(`/author/courses/${courseId}`, { ...COURSE_DETAILS, slug: 'another-address', topicId: String((await course()).topicId) });
      expect(slugChange.status).toBe(400);
      expect(slugChange.body).toContain('The web address cannot change once a course has been published');

      const firstPublished = (await course()).publishedAt;
      expect((await author.submit(`/author/courses/${courseId}/unpublish`, {})).status).toBe(303);
      expect((await course()).status).toBe('archived');
      expect((await t.visitor().get('/courses/hazard-logs')).status).toBe(404);
      expect((await learner.get('/courses/hazard-logs')).status).toBe(404);
      expect((await t.visitor().get('/api/v1/courses?q=hazard')).json().items).toEqual([]);
      const preview = await author.get('/courses/hazard-logs');
      expect(preview.status).toBe(200);
      expect(preview.body).toContain('Preview');
      expect((await author.get('/author/courses')).body).toContain('Archived');

      await author.get(`/author/courses/${courseId}`);
      expect((await author.submit(`/author/courses/${courseId}/publish`, {})).status).toBe(303);
      const republished = await course();
      expect(republished.status).toBe('published');
      expect(republished.publishedAt!.getTime()).toBe(firstPublished!.getTime());
      expect((await learner.get('/courses/hazard-logs')).status).toBe(200);
    });
  });

  describe('who may author', () => {
    it('sends anonymous visitors to sign in', async () => {
      const visitor = t.visitor();
      const page = await visitor.get(`/author/courses/${courseId}`);
      expect(page.status).toBe(303);
      expect(page.headers.location).toBe(`/sign-in?next=${encodeURIComponent(`/author/courses/${courseId}`)}`);
      await visitor.get('/sign-in');
      const post = await visitor.submit(`/author/courses/${courseId}/unpublish`, {});
      expect(post.status).toBe(303);
      expect(post.headers.location).toBe('/sign-in');
      const upload = await visitor.upload(`/author/lessons/${lessons['Hazard log template']}/file`, [file('x.csv', CSV, 'text/csv')]);
      expect(upload.status).toBe(303);
      expect((await course()).status).toBe('published');
    });

    it('refuses learners with 403 and does not offer them the menu item', async () => {
      expect((await learner.get('/author/courses')).status).toBe(403);
      expect((await learner.get(`/author/courses/${courseId}`)).status).toBe(403);
      expect((await learner.get('/')).body).not.toContain('href="/author/courses"');
      await learner.get('/courses');
      expect((await learner.submit('/author/courses', { title: 'Mine now', summary: 'x', newTopic: 'x', level: 'introductory', cpdHours: '1' })).status).toBe(403);
      expect((await learner.submit(`/author/courses/${courseId}/unpublish`, {})).status).toBe(403);
      const filesBefore = storedFiles();
      expect((await learner.upload(`/author/lessons/${lessons['Hazard log template']}/file`, [file('x.csv', CSV, 'text/csv')])).status).toBe(403);
      expect(storedFiles()).toEqual(filesBefore);
      expect((await course()).status).toBe('published');
    });

    it('answers 404 to another author for every page and action on the course, changing nothing', async () => {
      expect((await otherAuthor.get('/author/courses')).body).not.toContain('Hazard logs in practice');
      for (const url of [`/author/courses/${courseId}`, `/author/modules/${modules['Getting started']}`, `/author/lessons/${lessons['Why hazards matter']}`, `/author/lessons/${lessons['Check your understanding']}/questions/new`]) {
        expect((await otherAuthor.get(url)).status).toBe(404);
      }
      const question = await ds().getRepository(QuizQuestion).findOneByOrFail({ lessonId: lessons['Check your understanding'], position: 1 });
      expect((await otherAuthor.get(`/author/questions/${question.id}`)).status).toBe(404);
      await otherAuthor.get('/author/courses');
      const before = { course: await course(), syllabus: await syllabus(), files: storedFiles() };
      for (const [url, form] of [
        [`/author/courses/${courseId}/unpublish`, {}],
        [`/author/courses/${courseId}/modules`, { moduleTitle: 'Hijack' }],
        [`/author/modules/${modules['Getting started']}`, { title: 'Hijacked' }],
        [`/author/modules/${modules['Getting started']}/move`, { direction: 'down' }],
        [`/author/lessons/${lessons['Why hazards matter']}/move`, { direction: 'down' }],
        [`/author/lessons/${lessons['Why hazards matter']}/delete`, {}],
        [`/author/questions/${question.id}/delete`, {}],
      ] as Array<[string, Record<string, string>]>) {
        expect([url, (await otherAuthor.submit(url, form)).status]).toEqual([url, 404]);
      }
      const upload = await otherAuthor.upload(`/author/lessons/${lessons['Hazard log template']}/file`, [file('x.csv', CSV, 'text/csv')]);
      expect(upload.status).toBe(404);
      expect({ course: await course(), syllabus: await syllabus(), files: storedFiles() }).toEqual(before);
      expect(await ds().getRepository(QuizQuestion).count({ where: { id: question.id } })).toBe(1);
    });

    it('lets an administrator see and edit every course', async () => {
      const list = await admin.get('/author/courses');
      expect(list.status).toBe(200);
      expect(list.body).toContain('All courses');
      expect(list.body).toContain('Hazard logs in practice');
      expect(list.body).toContain('href="/author/courses"');
      expect((await admin.get(`/author/courses/${courseId}`)).status).toBe(200);
      const renamed = await admin.submit(`/author/modules/${modules['Going further']}`, { title: 'Going further still' });
      expect(renamed.status).toBe(303);
      expect((await ds().getRepository(CourseModule).findOneByOrFail({ id: modules['Going further'] })).title).toBe('Going further still');
    });
  });

  describe('deleting', () => {
    it('asks to confirm on a page of its own, saying what goes, learners’ progress included; only the author or an admin', async () => {
      const resource = await lesson(lessons['Hazard log template']);
      // A learner has finished a lesson of "Getting started".
      await learner.get('/courses/hazard-logs');
      expect((await learner.submit('/courses/hazard-logs/enrol', {})).status).toBe(303);
      expect((await learner.submit(`/courses/hazard-logs/lessons/${lessons['Why hazards matter']}/complete`, {})).status).toBe(303);
      const progressRows = async () => Number((await ds().query('SELECT COUNT(*) AS n FROM lesson_progress WHERE lesson_id = ?', [lessons['Why hazards matter']]))[0].n);
      expect(await progressRows()).toBe(1);

      // The lesson and module pages link to the confirmation page; they no longer delete at a click.
      const lessonPage = await author.get(`/author/lessons/${resource.id}`);
      expect(lessonPage.body).toContain(`href="/author/lessons/${resource.id}/delete"`);
      expect(lessonPage.body).not.toContain(`action="/author/lessons/${resource.id}/delete"`);
      const modulePage = await author.get(`/author/modules/${modules['Getting started']}`);
      expect(modulePage.body).toContain(`href="/author/modules/${modules['Getting started']}/delete"`);
      expect(modulePage.body).not.toContain(`action="/author/modules/${modules['Getting started']}/delete"`);

      const confirmLesson = await author.get(`/author/lessons/${resource.id}/delete`);
      expect(confirmLesson.status).toBe(200);
      expect(confirmLesson.body).toContain('<title>Delete the lesson “Hazard log template”?');
      expect(confirmLesson.body).toContain('Are you sure you want to delete the lesson “Hazard log template”?');
      expect(confirmLesson.body).toContain(`its file “${resource.fileName}”`);
      expect(confirmLesson.body).toContain('No learner has started this lesson yet.');
      expect(confirmLesson.body).toContain('The course is published');
      expect(confirmLesson.body).toMatch(new RegExp(`<form method="post" action="/author/lessons/${resource.id}/delete" novalidate>\\s*<input type="hidden" name="_csrf"`));
      expect(confirmLesson.body).toContain(`href="/author/lessons/${resource.id}">No, go back</a>`);

      const confirmModule = await author.get(`/author/modules/${modules['Getting started']}/delete`);
      expect(confirmModule.status).toBe(200);
      expect(confirmModule.body).toContain('Are you sure you want to delete the module “Getting started”?');
      expect(confirmModule.body).toContain('its 2 lessons');
      expect(confirmModule.body).toContain('their 2 files (videos, captions and downloads)');
      expect(confirmModule.body).toMatch(/<ol class="nhsuk-list nhsuk-list--number" id="deletion-lessons">\s*<li>Why hazards matter<\/li><li>What is a clinical hazard\?<\/li>/);
      expect(confirmModule.body).toContain('the progress of 1 learner in these lessons');
      expect(confirmModule.body).toContain('1 learner has started these lessons, and 1 has finished at least one of them. Their progress in these lessons will be deleted.');
      // An administrator may see it too.
      expect((await admin.get(`/author/modules/${modules['Getting started']}/delete`)).status).toBe(200);
      expect((await admin.get(`/author/lessons/${resource.id}/delete`)).status).toBe(200);

      // Another author: 404 for the pages and the deletions; a learner: 403. Nothing is deleted, and a POST without the CSRF token is refused.
      const before = { syllabus: await syllabus(), files: storedFiles() };
      for (const url of [`/author/lessons/${resource.id}/delete`, `/author/modules/${modules['Getting started']}/delete`]) {
        expect([url, (await otherAuthor.get(url)).status]).toEqual([url, 404]);
        expect([url, (await learner.get(url)).status]).toEqual([url, 403]);
        await otherAuthor.get('/author/courses');
        expect([url, (await otherAuthor.submit(url, {})).status]).toEqual([url, 404]);
        await learner.get('/courses');
        expect([url, (await learner.submit(url, {})).status]).toEqual([url, 403]);
        await author.get(url);
        expect([url, (await author.submit(url, {}, { withCsrf: false })).status]).toEqual([url, 403]);
      }
      expect({ syllabus: await syllabus(), files: storedFiles() }).toEqual(before);
      expect(await progressRows()).toBe(1);
    });

    it('deletes lessons and modules with their files, keeping the course length in step', async () => {
      const resource = await lesson(lessons['Hazard log template']);
      const video = await lesson(lessons['What is a clinical hazard?']);
      await author.get(`/author/lessons/${resource.id}/delete`);
      expect((await author.submit(`/author/lessons/${resource.id}/delete`, {})).status).toBe(303);
      expect(existsSync(join(filesDir(), resource.fileKey!))).toBe(false);
      expect((await course()).estimatedMinutes).toBe(22);

      await author.get(`/author/modules/${modules['Getting started']}/delete`);
      expect((await author.submit(`/author/modules/${modules['Getting started']}/delete`, {})).status).toBe(303);
      expect(await ds().getRepository(Lesson).count({ where: { moduleId: modules['Getting started'] } })).toBe(0);
      expect(existsSync(join(filesDir(), video.fileKey!))).toBe(false);
      expect(existsSync(join(filesDir(), video.captionsKey!))).toBe(false);
      expect((await course()).estimatedMinutes).toBe(5);
      expect(await syllabus()).toEqual(['Going further still: Check your understanding']);
      expect((await ds().getRepository(CourseModule).findOneByOrFail({ id: modules['Going further'] })).position).toBe(1);
      // Learners' progress in the deleted lessons went with them.
      expect(Number((await ds().query('SELECT COUNT(*) AS n FROM lesson_progress WHERE lesson_id = ?', [lessons['Why hazards matter']]))[0].n)).toBe(0);
      // The confirmation page of what is gone is a 404.
      expect((await author.get(`/author/modules/${modules['Getting started']}/delete`)).status).toBe(404);
    });
  });
});

/** A urlencoded body with repeated keys for arrays, as a browser sends ticked checkboxes. */
function formBody(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) for (const v of [value].flat()) params.append(key, v);
  return params.toString();
}
