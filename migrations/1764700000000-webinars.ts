import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

/** Webinars, registrations with their waitlist, attendance (live and recording) and live questions. */
export class Webinars1764700000000 implements MigrationInterface {
  name = 'Webinars1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'webinars',
        columns: [
          id(),
          varchar('slug', 120),
          varchar('title', 160),
          varchar('summary', 300),
          text('description'),
          text('presenters'),
          int('topic_id', { isNullable: true }),
          datetime('starts_at'),
          int('duration_minutes'),
          int('capacity'),
          varchar('join_url', 500, { isNullable: true }),
          varchar('stream_url', 500, { isNullable: true }),
          varchar('status', 20),
          int('cpd_minutes'),
          int('min_attendance_minutes'),
          varchar('recording_key', 255, { isNullable: true }),
          varchar('recording_type', 100, { isNullable: true }),
          int('recording_seconds', { isNullable: true }),
          varchar('recording_url', 500, { isNullable: true }),
          varchar('recording_captions_key', 255, { isNullable: true }),
          datetime('recording_added_at', { isNullable: true }),
          int('sequence', { default: 0 }),
          text('cancel_reason', { isNullable: true }),
          datetime('cancelled_at', { isNullable: true }),
          int('author_id'),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('uq_webinars_slug', ['slug'], true),
          index('idx_webinars_status_starts', ['status', 'starts_at']),
          index('idx_webinars_topic', ['topic_id']),
          index('idx_webinars_author', ['author_id']),
        ],
        foreignKeys: [foreignKey('fk_webinars_topic', 'topic_id', 'topics', 'SET NULL'), foreignKey('fk_webinars_author', 'author_id', 'users', 'RESTRICT')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webinar_registrations',
        columns: [id(), int('webinar_id'), int('user_id'), varchar('status', 20), datetime('queued_at'), datetime('promoted_at', { isNullable: true }), datetime('cancelled_at', { isNullable: true })],
        indices: [
          index('uq_webinar_registrations_user', ['webinar_id', 'user_id'], true),
          index('idx_webinar_registrations_queue', ['webinar_id', 'status', 'queued_at']),
          index('idx_webinar_registrations_user', ['user_id', 'status']),
        ],
        foreignKeys: [foreignKey('fk_webinar_registrations_webinar', 'webinar_id', 'webinars', 'CASCADE'), foreignKey('fk_webinar_registrations_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webinar_attendance',
        columns: [
          id(),
          int('webinar_id'),
          int('user_id'),
          datetime('first_joined_at', { isNullable: true }),
          datetime('last_joined_at', { isNullable: true }),
          int('join_count', { default: 0 }),
          int('position_seconds', { default: 0 }),
          int('covered_seconds', { default: 0 }),
          text('watched_intervals', { isNullable: true }),
          int('watch_allowance_ms', { default: 0 }),
          datetime('heartbeat_at', { isNullable: true }),
          datetime('credited_at', { isNullable: true }),
          datetime('credit_recorded_at', { isNullable: true }),
          datetime('updated_at'),
        ],
        indices: [
          index('uq_webinar_attendance_user', ['webinar_id', 'user_id'], true),
          index('idx_webinar_attendance_user', ['user_id']),
          index('idx_webinar_attendance_credit', ['credited_at', 'credit_recorded_at']),
        ],
        foreignKeys: [foreignKey('fk_webinar_attendance_webinar', 'webinar_id', 'webinars', 'CASCADE'), foreignKey('fk_webinar_attendance_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webinar_questions',
        columns: [id(), int('webinar_id'), int('user_id'), text('body'), int('votes', { default: 0 }), varchar('status', 20), datetime('created_at'), datetime('answered_at', { isNullable: true })],
        indices: [index('idx_webinar_questions_webinar', ['webinar_id', 'status', 'votes'])],
        foreignKeys: [foreignKey('fk_webinar_questions_webinar', 'webinar_id', 'webinars', 'CASCADE'), foreignKey('fk_webinar_questions_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webinar_question_votes',
        columns: [int('question_id', { isPrimary: true }), int('user_id', { isPrimary: true }), datetime('created_at')],
        indices: [index('idx_webinar_question_votes_user', ['user_id'])],
        foreignKeys: [foreignKey('fk_webinar_question_votes_question', 'question_id', 'webinar_questions', 'CASCADE'), foreignKey('fk_webinar_question_votes_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['webinar_question_votes', 'webinar_questions', 'webinar_attendance', 'webinar_registrations', 'webinars']) await q.dropTable(table);
  }
}
