import { DataSource } from 'typeorm';
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
