import { DataSource } from 'typeorm';
import { CourseModule } from '../../src/catalogue/entities/course-module.entity';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { QuizOption, QuizQuestion } from '../../src/catalogue/entities/quiz-question.entity';
import { Clock } from '../../src/common/clock';
import { londonFields } from '../../src/common/london-time';
import { Webinar } from '../../src/webinars/entities';
import { Answer, startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { FormEntries, formEntries, urlencoded } from '../support/html-forms';

/**
 * Saving a form without changing anything must leave what is stored exactly as it was, byte for byte, however
 * often it is done. Each form is loaded, read out of the HTML as a browser reads it (character references
 * decoded, the newline after <textarea> dropped) and sent back as a browser sends it (line breaks as CRLF), twice.
 * The text is what an author might really write: Markdown with lists, indented code, a leading blank line,
 * hard breaks (two trailing spaces), tabs, Chinese and Arabic, an emoji, `&amp;`, `<` and even `</textarea>`.
 */

/** Markdown starting with a blank line and ending with a newline, with everything whitespace-sensitive between. */
const MARKDOWN = [
  '',
  '## What you will learn',
  '',
  '- Keep a hazard log &amp; review it',
  '- Score a risk when severity < 3 and likelihood > 2',
  '  - a nested point, indented two spaces',
  '',
  '1. Numbered',
  '2. Steps',
  '',
  '    $ academy export --since 2024-01-01',
  '    if (risk < 3 && owner) { review(); }',
  '',
  'A line that ends in two spaces  ',
  'breaks here; a tab\tstays; </textarea> and &lt; stay as typed.',
  '',
  '临床安全：危害日志的要点',
  'السلامة السريرية: سجل المخاطر',
  '🩺 "Quotes", \'apostrophes\' and = signs',
  '',
].join('\n');
/** Markdown that opens with an indented code block and ends in spaces: trimming would change its meaning. */
const CODE_FIRST = '    $ first line is code\n\n- Clinical safety officers &amp; CCIOs\n- 临床安全官 and مسؤولو السلامة  \n  ';
const PRESENTERS = 'Dr 李明, CCIO &amp; lead\n  Sam O\'Neil <sam@example.org>, pharmacist  \nفاطمة الزهراء، صيدلانية';
/** One-line fields: characters that must be escaped, and spaces inside that must stay. */
const TITLE = `Hazard logs &amp; <risk>  "in" 'practice' = 临床安全`;
const SUMMARY = `Keep a log that stands up to DCB0129 &amp; DCB0160 — < 1 hour, السلامة السريرية`;

/** What a browser sends for text an author typed: line breaks as CRLF. */
const typed = (text: string) => text.replace(/\n/g, '\r\n');

/** The entries with these fields set as an author would set them (a repeated field as an array). */
function fill(entries: FormEntries, fields: Record<string, string | string[]>): FormEntries {
  const names = new Set(Object.keys(fields));
  const kept = entries.filter(([name]) => !names.has(name));
  for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) kept.push([name, typed(one)]);
  return kept;
}

describe('saving a form unchanged changes nothing stored', () => {
  let t: TestApp;
  let author: Visitor & { userId: number };
  const ds = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startTestApp();
    author = await t.signedIn('author', { name: 'Ada Author' });
  });
  afterAll(() => t?.close());

  /** Posts the entries as a browser posts a form. */
  const post = (action: string, entries: FormEntries) =>
    author.request('POST', action, { raw: urlencoded(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const expectRedirect = (answer: Answer) => {
    if (answer.status !== 303) throw new Error(`expected 303, got ${answer.status}: ${/<div class="nhsuk-error-summary[\s\S]*?<\/div>/.exec(answer.body)?.[0] ?? answer.body.slice(0, 500)}`);
    return String(answer.headers.location);
  };
  /** Opens `page` and submits its form posting to `action` with these fields changed (none: unchanged). */
  const submitForm = async (page: string, action: string, fields: Record<string, string | string[]> = {}) => {
    const shown = await author.get(page);
    expect(shown.status).toBe(200);
    return expectRedirect(await post(action, fill(formEntries(shown.body, action), fields)));
  };
  /** Saves the form unchanged twice; after each save every stored column is what it was before. */
  const expectUnchangedSaves = async (page: string, action: string, stored: () => Promise<unknown>) => {
    const before = await stored();
    for (const save of ['first', 'second']) {
      await submitForm(page, action);
      expect({ save, stored: await stored() }).toEqual({ save, stored: before });
    }
  };
  const withoutUpdatedAt = <T extends { updatedAt: Date }>(row: T) => {
    const { updatedAt, ...rest } = row;
    void updatedAt;
    return rest;
  };

  let courseId: number;
  let moduleId: number;

  it('course details: created as typed, then saved unchanged twice', async () => {
    const location = await submitForm('/author/courses/new', '/author/courses', {
      title: TITLE,
      summary: SUMMARY,
      description: MARKDOWN,
      whoFor: CODE_FIRST,
      newTopic: 'Clinical safety &amp; risk',
      level: 'intermediate',
      cpdHours: '1.5',
    });
    courseId = Number(/\/author\/courses\/(\d+)/.exec(location)?.[1]);
    const course = () => ds().getRepository(Course).findOneByOrFail({ id: courseId });
    expect(await course()).toMatchObject({ title: TITLE, summary: SUMMARY, description: MARKDOWN, whoFor: CODE_FIRST, level: 'intermediate', cpdMinutes: 90, status: 'draft' });

    await expectUnchangedSaves(`/author/courses/${courseId}`, `/author/courses/${courseId}`, async () => withoutUpdatedAt(await course()));
    const topicRow = await ds().getRepository(Course).findOneOrFail({ where: { id: courseId }, relations: { topic: true } });
    expect(topicRow.topic?.name).toBe('Clinical safety &amp; risk');
  });

  it('CPD time stored as any whole number of minutes (an import, an old form) survives an unchanged save', async () => {
    const course = () => ds().getRepository(Course).findOneByOrFail({ id: courseId });
    for (const minutes of [75, 80, 1, 599]) {
      await ds().getRepository(Course).update({ id: courseId }, { cpdMinutes: minutes });
      await expectUnchangedSaves(`/author/courses/${courseId}`, `/author/courses/${courseId}`, async () => withoutUpdatedAt(await course()));
      expect((await course()).cpdMinutes).toBe(minutes);
    }
  });

  it('a module title: saved unchanged twice', async () => {
    moduleId = Number(/#module-(\d+)/.exec(await submitForm(`/author/courses/${courseId}`, `/author/courses/${courseId}/modules`, { moduleTitle: TITLE }))?.[1]);
    const module = () => ds().getRepository(CourseModule).findOneByOrFail({ id: moduleId });
    expect((await module()).title).toBe(TITLE);
    await expectUnchangedSaves(`/author/modules/${moduleId}`, `/author/modules/${moduleId}`, module);
  });

  it.each(['text', 'video', 'quiz', 'resource'])('a %s lesson: its text saved as typed, then saved unchanged twice', async (kind) => {
    const added = await submitForm(`/author/courses/${courseId}`, `/author/modules/${moduleId}/lessons`, { [`lessonTitle-${moduleId}`]: `${kind} ${TITLE}`, [`lessonKind-${moduleId}`]: kind });
    const lessonId = Number(/\/author\/lessons\/(\d+)/.exec(added)?.[1]);
    const page = `/author/lessons/${lessonId}`;
    await submitForm(page, page, { body: kind === 'video' ? CODE_FIRST : MARKDOWN, minutes: '7' });
    const lesson = () => ds().getRepository(Lesson).findOneByOrFail({ id: lessonId });
    expect(await lesson()).toMatchObject({ kind, title: `${kind} ${TITLE}`, minutes: 7, body: kind === 'video' ? CODE_FIRST : MARKDOWN });
    await expectUnchangedSaves(page, page, lesson);
  });

  it('a quiz question with an explanation: saved as typed, then saved unchanged twice', async () => {
    const quiz = await ds().getRepository(Lesson).findOneByOrFail({ courseId, kind: 'quiz' });
    const prompt = 'Which of these is a **hazard** &amp; why?\n\n    severity < 3\n\n危害是什么？ ما هو الخطر؟  ';
    const options = ['A potential source of harm &amp; <more>', '  "Quoted" answer — 危害', 'إجابة عربية'];
    await submitForm(`/author/lessons/${quiz.id}/questions/new`, `/author/lessons/${quiz.id}/questions`, {
      prompt,
      answerType: 'multiple',
      option1: options[0],
      option2: options[1],
      option3: options[2],
      correct: ['1', '3'],
      explanation: MARKDOWN,
    });
    const question = await ds().getRepository(QuizQuestion).findOneByOrFail({ lessonId: quiz.id });
    const stored = async () => ({
      question: await ds().getRepository(QuizQuestion).findOneByOrFail({ id: question.id }),
      options: await ds().getRepository(QuizOption).find({ where: { questionId: question.id }, order: { position: 'ASC' } }),
    });
    const before = await stored();
    expect(before.question).toMatchObject({ prompt, multiple: true, explanation: MARKDOWN });
    // Answers are one-line inputs: their ends are trimmed when first saved, nothing else.
    expect(before.options.map((o) => [o.text, o.correct])).toEqual([
      [options[0], true],
      [options[1].trim(), false],
      [options[2], true],
    ]);
    await expectUnchangedSaves(`/author/questions/${question.id}`, `/author/questions/${question.id}`, stored);
  });

  it('a webinar with a multi-line description and presenters: saved as typed, then saved unchanged twice, as a draft and once published', async () => {
    const topicId = (await topic(t, 'Interoperability')).id;
    const start = londonFields(new Date(t.app.get(Clock).now().getTime() + 3 * 24 * 3600_000));
    const location = await submitForm('/author/webinars/new', '/author/webinars/new', {
      title: TITLE,
      summary: SUMMARY,
      description: MARKDOWN,
      presenters: PRESENTERS,
      topicId: String(topicId),
      date: start.date,
      time: '14:00',
      durationMinutes: '60',
      capacity: '50',
      joinUrl: 'https://meet.example.org/room?a=1&b=2',
      cpdHours: '1.5',
      minAttendanceMinutes: '45',
    });
    const id = Number(/\/author\/webinars\/(\d+)/.exec(location)?.[1]);
    const webinar = () => ds().getRepository(Webinar).findOneByOrFail({ id });
    expect(await webinar()).toMatchObject({ title: TITLE, summary: SUMMARY, description: MARKDOWN, presenters: PRESENTERS, joinUrl: 'https://meet.example.org/room?a=1&b=2', cpdMinutes: 90, status: 'draft' });
    const page = `/author/webinars/${id}`;
    await expectUnchangedSaves(page, page, async () => withoutUpdatedAt(await webinar()));
    // CPD time that was not typed in this form (75 minutes is 1.25 hours) comes back unchanged too.
    await ds().getRepository(Webinar).update({ id }, { cpdMinutes: 75 });
    await expectUnchangedSaves(page, page, async () => withoutUpdatedAt(await webinar()));
    expect((await webinar()).cpdMinutes).toBe(75);

    await submitForm(page, `/author/webinars/${id}/publish`);
    expect((await webinar()).status).toBe('scheduled');
    // Published: an unchanged save sends no updated invitation either (the sequence stays).
    await expectUnchangedSaves(page, page, async () => withoutUpdatedAt(await webinar()));
  });
});
