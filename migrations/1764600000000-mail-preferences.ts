import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { bool, datetime, foreignKey, int } from './support/columns';

/** E-mail preferences, followed topics (for the weekly digest) and when an idle course was last nudged. */
export class MailPreferences1764600000000 implements MigrationInterface {
  name = 'MailPreferences1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'mail_preferences',
        columns: [int('user_id', { isPrimary: true }), bool('course_nudges', { default: 1 }), bool('weekly_digest', { default: 0 }), datetime('updated_at')],
        foreignKeys: [foreignKey('fk_mail_preferences_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'topic_follows',
        columns: [int('user_id', { isPrimary: true }), int('topic_id', { isPrimary: true })],
        indices: [new TableIndex({ name: 'idx_topic_follows_topic', columnNames: ['topic_id'] })],
        foreignKeys: [foreignKey('fk_topic_follows_user', 'user_id', 'users', 'CASCADE'), foreignKey('fk_topic_follows_topic', 'topic_id', 'topics', 'CASCADE')],
      }),
    );
    await q.addColumn('enrolments', new TableColumn(datetime('nudged_at', { isNullable: true })));
    await q.createIndex('enrolments', new TableIndex({ name: 'idx_enrolments_status_activity', columnNames: ['status', 'last_activity_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('enrolments', 'idx_enrolments_status_activity');
    await q.dropColumn('enrolments', 'nudged_at');
    await q.dropTable('topic_follows');
    await q.dropTable('mail_preferences');
  }
}
