import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { datetime, foreignKey, id, index, int, varchar } from './support/columns';

/**
 * Indexes for administration. Users by role (the administrators are counted and locked as a range, so the last one
 * cannot be demoted by two people at once, without locking every account); and the month-by-month site figures,
 * each read as a range of one date column: enrolments by when they were made (with the course and status, so the
 * most taken courses come from the index alone), certificates by when they were issued, lesson progress by when it
 * last changed (with its enrolment, to find the learners behind it). And learner_activity_months: one row per person and
 * London month in which they made progress, recorded from lesson progress as it is written, for "active learners".
 */
export class Administration1765140000000 implements MigrationInterface {
  name = 'Administration1765140000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('users', index('idx_users_role', ['role', 'deactivated_at']));
    await q.createIndex('enrolments', index('idx_enrolments_enrolled', ['enrolled_at', 'course_id', 'status']));
    await q.createIndex('certificates', index('idx_certificates_issued', ['issued_at', 'status']));
    await q.createIndex('lesson_progress', index('idx_lesson_progress_updated', ['updated_at', 'enrolment_id']));
    await q.createTable(
      new Table({
        name: 'learner_activity_months',
        columns: [id(), varchar('month', 7), int('user_id'), datetime('last_activity_at')],
        indices: [
          index('uq_learner_activity_month_user', ['month', 'user_id'], true),
          index('idx_learner_activity_last', ['last_activity_at']),
          index('idx_learner_activity_user', ['user_id']),
        ],
        foreignKeys: [foreignKey('fk_learner_activity_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('learner_activity_months');
    await q.dropIndex('lesson_progress', 'idx_lesson_progress_updated');
    await q.dropIndex('certificates', 'idx_certificates_issued');
    await q.dropIndex('enrolments', 'idx_enrolments_enrolled');
    await q.dropIndex('users', 'idx_users_role');
  }
}
