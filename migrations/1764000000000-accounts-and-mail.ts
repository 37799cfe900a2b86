import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { datetime, id, int, text, varchar } from './support/columns';

export class AccountsAndMail1764000000000 implements MigrationInterface {
  name = 'AccountsAndMail1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organisations',
        columns: [id(), varchar('name', 150), varchar('name_key', 150), datetime('created_at')],
        indices: [new TableIndex({ name: 'uq_organisations_name_key', columnNames: ['name_key'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          id(),
          varchar('email', 254),
          varchar('name', 120),
          varchar('password_hash', 255),
          varchar('role', 20),
          int('organisation_id', { isNullable: true }),
          varchar('job_role', 120),
          datetime('created_at'),
          datetime('last_sign_in_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'uq_users_email', columnNames: ['email'], isUnique: true }),
          new TableIndex({ name: 'idx_users_organisation', columnNames: ['organisation_id'] }),
        ],
        foreignKeys: [
          new TableForeignKey({ name: 'fk_users_organisation', columnNames: ['organisation_id'], referencedTableName: 'organisations', referencedColumnNames: ['id'], onDelete: 'SET NULL', onUpdate: 'NO ACTION' }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          varchar('id', 64, { isPrimary: true }),
          int('user_id'),
          datetime('created_at'),
          datetime('expires_at'),
          varchar('user_agent', 255, { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'idx_sessions_user', columnNames: ['user_id'] }),
          new TableIndex({ name: 'idx_sessions_expires', columnNames: ['expires_at'] }),
        ],
        foreignKeys: [userForeignKey('fk_sessions_user')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_tokens',
        columns: [id(), int('user_id'), varchar('token_hash', 64), datetime('created_at'), datetime('expires_at'), datetime('revoked_at', { isNullable: true })],
        indices: [
          new TableIndex({ name: 'uq_api_tokens_hash', columnNames: ['token_hash'], isUnique: true }),
          new TableIndex({ name: 'idx_api_tokens_user', columnNames: ['user_id'] }),
        ],
        foreignKeys: [userForeignKey('fk_api_tokens_user')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'password_resets',
        columns: [id(), int('user_id'), varchar('token_hash', 64), datetime('created_at'), datetime('expires_at'), datetime('used_at', { isNullable: true })],
        indices: [
          new TableIndex({ name: 'uq_password_resets_hash', columnNames: ['token_hash'], isUnique: true }),
          new TableIndex({ name: 'idx_password_resets_user', columnNames: ['user_id'] }),
        ],
        foreignKeys: [userForeignKey('fk_password_resets_user')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'mail_messages',
        columns: [
          id(),
          varchar('dedupe_key', 191),
          varchar('to_address', 254),
          varchar('template', 100),
          text('payload'),
          varchar('status', 20),
          int('attempts', { default: 0 }),
          varchar('last_error', 500, { isNullable: true }),
          datetime('created_at'),
          datetime('sent_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'uq_mail_messages_dedupe', columnNames: ['dedupe_key'], isUnique: true }),
          new TableIndex({ name: 'idx_mail_messages_status', columnNames: ['status', 'created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['mail_messages', 'password_resets', 'api_tokens', 'sessions', 'users', 'organisations']) {
      await q.dropTable(table);
    }
  }
}

function userForeignKey(name: string) {
  return new TableForeignKey({ name, columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE', onUpdate: 'NO ACTION' });
}
