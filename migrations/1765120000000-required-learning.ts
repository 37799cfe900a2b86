import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { datetime, foreignKey, id, index, int, varchar } from './support/columns';

/**
 * Required learning: the courses an organisation requires of its staff (everyone, some job roles or named people),
 * the e-mails sent about them (once per person, stage and due date) and the managers' weekly digests (once per
 * manager and ISO week).
 */
export class RequiredLearning1765120000000 implements MigrationInterface {
  name = 'RequiredLearning1765120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organisation_requirements',
        columns: [
          id(),
          int('organisation_id'),
          int('course_id'),
          varchar('audience', 10),
          varchar('due_kind', 5),
          int('due_days', { isNullable: true }),
          varchar('due_date', 10, { isNullable: true }),
          int('renewal_months', { isNullable: true }),
          int('created_by_id', { isNullable: true }),
          datetime('created_at'),
          datetime('updated_at'),
          datetime('archived_at', { isNullable: true }),
        ],
        indices: [
          index('idx_requirements_organisation', ['organisation_id', 'archived_at']),
          index('idx_requirements_live', ['archived_at', 'organisation_id']),
          index('idx_requirements_course', ['course_id']),
          index('idx_requirements_created_by', ['created_by_id']),
        ],
        foreignKeys: [
          foreignKey('fk_requirements_organisation', 'organisation_id', 'organisations', 'CASCADE'),
          foreignKey('fk_requirements_course', 'course_id', 'courses', 'CASCADE'),
          foreignKey('fk_requirements_created_by', 'created_by_id', 'users', 'SET NULL'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'requirement_job_roles',
        columns: [id(), int('requirement_id'), varchar('job_role', 120)],
        indices: [index('uq_requirement_job_roles', ['requirement_id', 'job_role'], true)],
        foreignKeys: [foreignKey('fk_requirement_job_roles_requirement', 'requirement_id', 'organisation_requirements', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'requirement_people',
        columns: [id(), int('requirement_id'), int('user_id'), datetime('added_at')],
        indices: [index('uq_requirement_people', ['requirement_id', 'user_id'], true), index('idx_requirement_people_user', ['user_id'])],
        foreignKeys: [foreignKey('fk_requirement_people_requirement', 'requirement_id', 'organisation_requirements', 'CASCADE'), foreignKey('fk_requirement_people_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'requirement_notices',
        columns: [id(), int('requirement_id'), int('user_id'), varchar('stage', 10), varchar('due_date', 10), datetime('created_at')],
        indices: [index('uq_requirement_notices', ['requirement_id', 'user_id', 'stage', 'due_date'], true), index('idx_requirement_notices_user', ['user_id'])],
        foreignKeys: [foreignKey('fk_requirement_notices_requirement', 'requirement_id', 'organisation_requirements', 'CASCADE'), foreignKey('fk_requirement_notices_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'requirement_digests',
        columns: [id(), int('manager_id'), varchar('iso_week', 8), datetime('created_at')],
        indices: [index('uq_requirement_digests', ['manager_id', 'iso_week'], true)],
        foreignKeys: [foreignKey('fk_requirement_digests_manager', 'manager_id', 'users', 'CASCADE')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('requirement_digests');
    await q.dropTable('requirement_notices');
    await q.dropTable('requirement_people');
    await q.dropTable('requirement_job_roles');
    await q.dropTable('organisation_requirements');
  }
}
