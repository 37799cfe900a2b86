import { Clock } from '../common/clock';
import { Injectable } from '@nestjs/common';
import { Repository } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { CourseModule } from './entities/course-module.entity';
import { Course, CourseLevel } from './entities/course.entity';
import { Lesson } from './entities/lesson.entity';
import { QuizOption, QuizQuestion } from './entities/quiz-question.entity';
import { Topic } from './entities/topic.entity';

interface LessonBase {
  title: string;
  minutes: number;
  required: boolean;
  body: string;
}

export type LessonDefinition =
  | (LessonBase & { kind: 'text' })
  | (LessonBase & { kind: 'resource'; file: string; fileName: string })
  | (LessonBase & { kind: 'video'; video: string; captions?: string; durationSeconds: number })
  | (LessonBase & {
      kind: 'quiz';
      passMark: number;
      questions: Array<{ prompt: string; multiple: boolean; explanation: string; options: Array<{ text: string; correct: boolean }> }>;
    });

/** A whole course as data: the shape of src/demo/content/courses/*.json. */
export interface CourseDefinition {
  slug: string;
  title: string;
  summary: string;
  description: string;
  whoFor: string;
  topic: string;
  level: CourseLevel;
  cpdHours: number;
  modules: Array<{ title: string; lessons: LessonDefinition[] }>;
}

const FILE_TYPES: Record<string, string> = { csv: 'text/csv', pdf: 'application/pdf', mp4: 'video/mp4', webm: 'video/webm', zip: 'application/zip' };
const typeOf = (path: string) => FILE_TYPES[path.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream';
const slugify = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * Creates a published course, with its modules, lessons and quiz, from a definition, in one transaction.
 * A course whose slug exists already is left alone, so importing is safe to repeat.
 * `fileKey(path)` turns a definition's file path into the storage key the lesson keeps.
 */
@Injectable()
export class CourseImporter {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  async import(definition: CourseDefinition, authorId: number, fileKey: (path: string) => string): Promise<'created' | 'exists'> {
    return this.unitOfWork.run(async (tx) => {
      if (await tx.getRepository(Course).exists({ where: { slug: definition.slug } })) return 'exists';
      const topics = tx.getRepository(Topic);
      const topicSlug = slugify(definition.topic);
      const topic = (await topics.findOneBy({ slug: topicSlug })) ?? (await topics.save(topics.create({ slug: topicSlug, name: definition.topic })));
      const lessons = definition.modules.flatMap((m) => m.lessons);
      const now = this.clock.now();
      const course = await tx.getRepository(Course).save(
        tx.getRepository(Course).create({
          slug: definition.slug,
          title: definition.title,
          summary: definition.summary,
          description: definition.description,
          whoFor: definition.whoFor,
          level: definition.level,
          estimatedMinutes: lessons.reduce((sum, l) => sum + l.minutes, 0),
          cpdMinutes: Math.round(definition.cpdHours * 60),
          coverImage: null,
          status: 'published',
          topicId: topic.id,
          authorId,
          enrolmentCount: 0,
          publishedAt: now,
          createdAt: now,
          updatedAt: now,
        }),
      );
      let position = 0;
      for (const [index, moduleDefinition] of definition.modules.entries()) {
        const module = await tx.getRepository(CourseModule).save({ courseId: course.id, position: index + 1, title: moduleDefinition.title });
        for (const lessonDefinition of moduleDefinition.lessons) {
          const lesson = await tx.getRepository(Lesson).save(tx.getRepository(Lesson).create(lessonRow(lessonDefinition, module.id, course.id, ++position, fileKey)));
          if (lessonDefinition.kind === 'quiz') await this.saveQuestions(tx.getRepository(QuizQuestion), tx.getRepository(QuizOption), lesson.id, lessonDefinition.questions);
        }
      }
      return 'created';
    });
  }

  private async saveQuestions(
    questions: Repository<QuizQuestion>,
    options: Repository<QuizOption>,
    lessonId: number,
    definitions: Extract<LessonDefinition, { kind: 'quiz' }>['questions'],
  ) {
    for (const [index, q] of definitions.entries()) {
      const question = await questions.save({ lessonId, position: index + 1, prompt: q.prompt, multiple: q.multiple, explanation: q.explanation });
      await options.save(q.options.map((o, i) => ({ questionId: question.id, position: i + 1, text: o.text, correct: o.correct })));
    }
  }
}

function lessonRow(l: LessonDefinition, moduleId: number, courseId: number, position: number, fileKey: (path: string) => string): Partial<Lesson> {
  const base = { moduleId, courseId, position, kind: l.kind, title: l.title, minutes: l.minutes, required: l.required, body: l.body, fileKey: null, fileName: null, fileType: null, captionsKey: null, videoSeconds: null, passMark: null };
  switch (l.kind) {
    case 'resource':
      return { ...base, fileKey: fileKey(l.file), fileName: l.fileName, fileType: typeOf(l.file) };
    case 'video':
      return { ...base, fileKey: fileKey(l.video), fileName: l.video.split('/').pop()!, fileType: typeOf(l.video), captionsKey: l.captions ? fileKey(l.captions) : null, videoSeconds: Math.round(l.durationSeconds) };
    case 'quiz':
      return { ...base, passMark: l.passMark };
    default:
      return base;
  }
}
