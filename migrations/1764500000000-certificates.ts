import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

/**
 * Certificates of completion (courses) and, later, of attendance (webinars): one per learner, subject and
 * revision; the job only ever issues revision 1, so the unique index makes "issued twice" impossible.
 */
export class Certificates1764500000000 implements MigrationInterface {
  name = 'Certificates1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'certificates',
        columns: [
          id(),
          varchar('code', 20),
          int('user_id'),
          varchar('subject_type', 20),
          int('subject_id'),
          int('revision', { default: 1 }),
          varchar('subject_title', 160),
          varchar('holder_name', 120),
          int('cpd_minutes'),
          datetime('achieved_at'),
          datetime('issued_at'),
          varchar('file_key', 255),
          varchar('sha256', 64),
          varchar('status', 20),
          datetime('revoked_at', { isNullable: true }),
          text('revoked_reason', { isNullable: true }),
        ],
        indices: [
          index('uq_certificates_code', ['code'], true),
          index('uq_certificates_holder_subject', ['user_id', 'subject_type', 'subject_id', 'revision'], true),
          index('idx_certificates_user_issued', ['user_id', 'issued_at']),
        ],
        foreignKeys: [foreignKey('fk_certificates_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('certificates');
  }
}
