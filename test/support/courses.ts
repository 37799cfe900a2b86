import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { DataSource, In } from 'typeorm';
import { CourseImporter } from '../../src/catalogue/course-importer';
import { QuizOption, QuizQuestion } from '../../src/catalogue/entities/quiz-question.entity';
import { DEMO_CONTENT_DIR } from '../../src/demo/demo.seeder';
import { FileStorage } from '../../src/storage/file-storage';
import { CourseModule } from '../../src/catalogue/entities/course-module.entity';
import { Course, CourseLevel, CourseStatus } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Topic } from '../../src/catalogue/entities/topic.entity';
import type { TestApp } from './app';

let sequence = 0;

export async function topic(t: TestApp, name: string): Promise<Topic> {
  const repo = t.app.get(DataSource).getRepository(Topic);
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (await repo.findOneBy({ slug })) ?? repo.save(repo.create({ slug, name }));
}

/** A course with one module of two lessons, written straight to the database. */
export async function course(
  t: TestApp,
  options: { title?: string; summary?: string; topic?: string; level?: CourseLevel; minutes?: number; status?: CourseStatus; authorId: number; publishedAt?: Date },
): Promise<Course> {
  const ds = t.app.get(DataSource);
  const n = ++sequence;
  const title = options.title ?? `Course ${n}`;
  const saved = await ds.getRepository(Course).save(
    ds.getRepository(Course).create({
      slug: `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${n}`,
      title,
      summary: options.summary ?? `A summary of ${title}`,
      description: `## About\n\n${title} in depth.`,
      whoFor: 'Anyone in health and care IT.',
      level: options.level ?? 'introductory',
      estimatedMinutes: options.minutes ?? 30,
      cpdMinutes: options.minutes ?? 30,
      coverImage: null,
      status: options.status ?? 'published',
      topicId: (await topic(t, options.topic ?? 'Clinical safety')).id,
      authorId: options.authorId,
      enrolmentCount: 0,
      publishedAt: options.status === 'draft' ? null : (options.publishedAt ?? new Date(Date.now() - (1000 - n) * 60_000)),
      createdAt: new Date(),
      updatedAt: new Date(),
    }),
  );
  const module = await ds.getRepository(CourseModule).save({ courseId: saved.id, position: 1, title: 'Getting started' });
  await ds.getRepository(Lesson).save([
    { moduleId: module.id, courseId: saved.id, position: 1, kind: 'text', title: 'Why it matters', minutes: 10, required: true, body: 'Text', fileKey: null, fileName: null, fileType: null, videoSeconds: null, passMark: null },
    { moduleId: module.id, courseId: saved.id, position: 2, kind: 'quiz', title: 'Check your understanding', minutes: 5, required: true, body: 'Quiz', fileKey: null, fileName: null, fileType: null, videoSeconds: null, passMark: 70 },
  ]);
  return saved;
}

/**
 * A published course with one lesson of each kind and real files (the demo video with captions, a CSV),
 * imported the way the demo content is. Lessons in order: text, video, quiz (2 questions), resource, optional text.
 */
export async function fullCourse(t: TestApp, authorId: number, title = 'Clinical risk in practice') {
  const storage = t.app.get(FileStorage);
  const n = ++sequence;
  for (const [path, key] of [
    ['media/what-is-a-clinical-hazard.mp4', 'test/hazard.mp4'],
    ['media/what-is-a-clinical-hazard.vtt', 'test/hazard.vtt'],
    ['resources/hazard-log-template.csv', 'test/hazard-log.csv'],
  ]) {
    if ((await storage.size(key)) === null) await storage.put(key, createReadStream(join(DEMO_CONTENT_DIR, path)));
  }
  const slug = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${n}`;
  const keys: Record<string, string> = { 'hazard.mp4': 'test/hazard.mp4', 'hazard.vtt': 'test/hazard.vtt', 'hazard-log.csv': 'test/hazard-log.csv' };
  await t.app.get(CourseImporter).import(
    {
      slug,
      title,
      summary: 'Hazards, controls and the hazard log.',
      description: 'A short course.',
      whoFor: 'Clinical safety officers.',
      topic: 'Clinical safety',
      level: 'introductory',
      cpdHours: 1,
      modules: [
        {
          title: 'Hazards',
          lessons: [
            { kind: 'text', title: 'Why hazards matter', minutes: 5, required: true, body: '## Hazards\n\nA hazard is a potential source of harm.' },
            { kind: 'video', title: 'What is a clinical hazard?', minutes: 2, required: true, body: 'Watch the video.', video: 'hazard.mp4', captions: 'hazard.vtt', durationSeconds: 73 },
          ],
        },
        {
          title: 'Check and apply',
          lessons: [
            {
              kind: 'quiz',
              title: 'Check your understanding',
              minutes: 5,
              required: true,
              body: 'Two questions.',
              passMark: 100,
              questions: [
                { prompt: 'What is a clinical hazard?', multiple: false, explanation: 'A hazard is a **potential** source of harm.', options: [{ text: 'A potential source of harm', correct: true }, { text: 'The harm itself', correct: false }] },
                { prompt: 'Which are controls?', multiple: true, explanation: 'Alerts and training both reduce risk.', options: [{ text: 'An allergy alert', correct: true }, { text: 'Training', correct: true }, { text: 'Ignoring the hazard', correct: false }] },
              ],
            },
            { kind: 'resource', title: 'Hazard log template', minutes: 5, required: true, body: 'Download the template.', file: 'hazard-log.csv', fileName: 'Hazard log – template.csv' },
            { kind: 'text', title: 'Further reading', minutes: 5, required: false, body: 'Optional extras.' },
          ],
        },
      ],
    },
    authorId,
    (path) => keys[path],
  );
  const ds = t.app.get(DataSource);
  const course = await ds.getRepository(Course).findOneByOrFail({ slug });
  const lessons = await ds.getRepository(Lesson).find({ where: { courseId: course.id }, order: { position: 'ASC' } });
  const questions = await ds.getRepository(QuizQuestion).find({ where: { lessonId: lessons[2].id }, order: { position: 'ASC' } });
  const options = await ds.getRepository(QuizOption).find({ where: { questionId: In(questions.map((q) => q.id)) }, order: { position: 'ASC' } });
  const [text, video, quiz, resource, optional] = lessons;
  return {
    course,
    text,
    video,
    quiz,
    resource,
    optional,
    questions: questions.map((q) => ({ ...q, options: options.filter((o) => o.questionId === q.id) })),
  };
}
