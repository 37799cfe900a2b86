import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { bool, datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

export class CoursesAndLearning1764100000000 implements MigrationInterface {
  name = 'CoursesAndLearning1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'topics', columns: [id(), varchar('slug', 80), varchar('name', 80)], indices: [index('uq_topics_slug', ['slug'], true)] }));
    await q.createTable(
      new Table({
        name: 'courses',
        columns: [
          id(),
          varchar('slug', 120),
          varchar('title', 120),
          varchar('summary', 300),
          text('description'),
          text('who_for'),
          varchar('level', 20),
          int('estimated_minutes'),
          int('cpd_minutes'),
          varchar('cover_image', 255, { isNullable: true }),
          varchar('status', 20),
          int('topic_id'),
          int('author_id'),
          int('enrolment_count', { default: 0 }),
          datetime('published_at', { isNullable: true }),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('uq_courses_slug', ['slug'], true),
          index('idx_courses_status_published', ['status', 'published_at']),
          index('idx_courses_status_minutes', ['status', 'estimated_minutes']),
          index('idx_courses_status_popular', ['status', 'enrolment_count']),
          index('idx_courses_topic', ['topic_id']),
          index('idx_courses_author', ['author_id']),
        ],
        foreignKeys: [foreignKey('fk_courses_topic', 'topic_id', 'topics', 'RESTRICT'), foreignKey('fk_courses_author', 'author_id', 'users', 'RESTRICT')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'course_modules',
        columns: [id(), int('course_id'), int('position'), varchar('title', 120)],
        indices: [index('idx_course_modules_course', ['course_id', 'position'])],
        foreignKeys: [foreignKey('fk_course_modules_course', 'course_id', 'courses', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'lessons',
        columns: [
          id(),
          int('module_id'),
          int('course_id'),
          int('position'),
          varchar('kind', 20),
          varchar('title', 120),
          int('minutes'),
          bool('required', { default: 1 }),
          text('body'),
          varchar('file_key', 255, { isNullable: true }),
          varchar('file_name', 160, { isNullable: true }),
          varchar('file_type', 120, { isNullable: true }),
          int('video_seconds', { isNullable: true }),
          int('pass_mark', { isNullable: true }),
        ],
        indices: [index('idx_lessons_module', ['module_id', 'position']), index('idx_lessons_course', ['course_id'])],
        foreignKeys: [foreignKey('fk_lessons_module', 'module_id', 'course_modules', 'CASCADE'), foreignKey('fk_lessons_course', 'course_id', 'courses', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'quiz_questions',
        columns: [id(), int('lesson_id'), int('position'), text('prompt'), bool('multiple', { default: 0 }), text('explanation')],
        indices: [index('idx_quiz_questions_lesson', ['lesson_id', 'position'])],
        foreignKeys: [foreignKey('fk_quiz_questions_lesson', 'lesson_id', 'lessons', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'quiz_options',
        columns: [id(), int('question_id'), int('position'), varchar('text', 500), bool('correct', { default: 0 })],
        indices: [index('idx_quiz_options_question', ['question_id', 'position'])],
        foreignKeys: [foreignKey('fk_quiz_options_question', 'question_id', 'quiz_questions', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'enrolments',
        columns: [
          id(),
          int('user_id'),
          int('course_id'),
          varchar('status', 20),
          int('progress_percent', { default: 0 }),
          datetime('enrolled_at'),
          datetime('last_activity_at'),
          datetime('withdrawn_at', { isNullable: true }),
          datetime('completed_at', { isNullable: true }),
        ],
        indices: [
          index('uq_enrolments_user_course', ['user_id', 'course_id'], true),
          index('idx_enrolments_user_activity', ['user_id', 'last_activity_at']),
          index('idx_enrolments_course_status', ['course_id', 'status']),
          index('idx_enrolments_status_completed', ['status', 'completed_at']),
        ],
        foreignKeys: [foreignKey('fk_enrolments_user', 'user_id', 'users', 'CASCADE'), foreignKey('fk_enrolments_course', 'course_id', 'courses', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'lesson_progress',
        columns: [
          int('enrolment_id', { isPrimary: true }),
          int('lesson_id', { isPrimary: true }),
          int('position_seconds', { default: 0 }),
          int('covered_seconds', { default: 0 }),
          text('watched_intervals', { isNullable: true }),
          datetime('completed_at', { isNullable: true }),
          datetime('updated_at'),
        ],
        indices: [index('idx_lesson_progress_lesson', ['lesson_id'])],
        foreignKeys: [foreignKey('fk_lesson_progress_enrolment', 'enrolment_id', 'enrolments', 'CASCADE'), foreignKey('fk_lesson_progress_lesson', 'lesson_id', 'lessons', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'quiz_attempts',
        columns: [id(), int('enrolment_id'), int('lesson_id'), int('score_percent'), bool('passed'), text('answers'), datetime('created_at')],
        indices: [index('idx_quiz_attempts_enrolment_lesson', ['enrolment_id', 'lesson_id']), index('idx_quiz_attempts_lesson', ['lesson_id'])],
        foreignKeys: [foreignKey('fk_quiz_attempts_enrolment', 'enrolment_id', 'enrolments', 'CASCADE'), foreignKey('fk_quiz_attempts_lesson', 'lesson_id', 'lessons', 'CASCADE')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['quiz_attempts', 'lesson_progress', 'enrolments', 'quiz_options', 'quiz_questions', 'lessons', 'course_modules', 'courses', 'topics']) {
      await q.dropTable(table);
    }
  }
}

