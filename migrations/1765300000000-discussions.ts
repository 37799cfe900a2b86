import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

/**
 * Discussions: spaces (the discussion of a course, lesson, webinar or exchange item, and communities) with their
 * members, threads and posts, helpful votes, follows, mentions, acceptances of the code of conduct, reports and
 * suspensions; and the notifications module's in-app notifications with each person's e-mail setting per kind.
 *
 * Posts are searchable like exchange items: an InnoDB FULLTEXT index on MySQL; on SQLite an external-content FTS5
 * table over the same column, kept in step by triggers (common/full-text.ts queries both).
 */
const isSqliteEngine = (q: QueryRunner) => ['better-sqlite3', 'sqlite'].includes(q.connection.options.type);

export class Discussions1765300000000 implements MigrationInterface {
  name = 'Discussions1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'discussion_spaces',
        columns: [
          id(),
          varchar('kind', 16),
          int('subject_id', { isNullable: true }),
          int('parent_id', { isNullable: true }),
          varchar('slug', 120, { isNullable: true }),
          varchar('title', 200),
          text('description', { isNullable: true }),
          varchar('access', 12, { default: "'open'" }),
          int('thread_count', { default: 0 }),
          int('created_by_id', { isNullable: true }),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('uq_discussion_spaces_subject', ['kind', 'subject_id'], true),
          index('uq_discussion_spaces_slug', ['slug'], true),
          index('idx_discussion_spaces_kind_title', ['kind', 'title']),
        ],
        foreignKeys: [foreignKey('fk_discussion_spaces_created_by', 'created_by_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_space_members',
        columns: [id(), int('space_id'), int('user_id'), varchar('status', 12), varchar('role', 12, { default: "'member'" }), datetime('requested_at'), datetime('decided_at', { isNullable: true }), int('decided_by_id', { isNullable: true })],
        indices: [
          index('uq_discussion_space_members', ['space_id', 'user_id'], true),
          index('idx_discussion_space_members_status', ['space_id', 'status', 'requested_at']),
          index('idx_discussion_space_members_user', ['user_id', 'status']),
        ],
        foreignKeys: [
          foreignKey('fk_discussion_space_members_space', 'space_id', 'discussion_spaces', 'CASCADE'),
          foreignKey('fk_discussion_space_members_user', 'user_id', 'users', 'CASCADE'),
          foreignKey('fk_discussion_space_members_decided_by', 'decided_by_id', 'users', 'SET NULL'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_threads',
        columns: [
          id(),
          int('space_id'),
          int('author_id', { isNullable: true }),
          varchar('kind', 12),
          varchar('title', 200),
          varchar('status', 12),
          bool('pinned', { default: 0 }),
          bool('locked', { default: 0 }),
          int('opening_post_id', { isNullable: true }),
          int('accepted_post_id', { isNullable: true }),
          int('reply_count', { default: 0 }),
          datetime('last_activity_at'),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('idx_discussion_threads_space_activity', ['space_id', 'status', 'pinned', 'last_activity_at']),
          index('idx_discussion_threads_author', ['author_id', 'created_at']),
          index('idx_discussion_threads_status_created', ['status', 'created_at']),
        ],
        foreignKeys: [foreignKey('fk_discussion_threads_space', 'space_id', 'discussion_spaces', 'CASCADE'), foreignKey('fk_discussion_threads_author', 'author_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_posts',
        columns: [
          id(),
          int('thread_id'),
          int('author_id', { isNullable: true }),
          bool('is_opening', { default: 0 }),
          text('body'),
          text('body_html'),
          text('search_text'),
          int('quoted_post_id', { isNullable: true }),
          varchar('status', 12),
          varchar('status_reason', 300, { isNullable: true }),
          int('helpful_count', { default: 0 }),
          datetime('edited_at', { isNullable: true }),
          datetime('fanned_out_at', { isNullable: true }),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('idx_discussion_posts_thread', ['thread_id', 'status', 'created_at']),
          index('idx_discussion_posts_author', ['author_id', 'created_at']),
          index('idx_discussion_posts_status', ['status', 'created_at']),
          index('idx_discussion_posts_fan_out', ['fanned_out_at', 'status', 'created_at']),
        ],
        foreignKeys: [foreignKey('fk_discussion_posts_thread', 'thread_id', 'discussion_threads', 'CASCADE'), foreignKey('fk_discussion_posts_author', 'author_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_votes',
        columns: [id(), int('post_id'), int('user_id'), datetime('created_at')],
        indices: [index('uq_discussion_votes', ['post_id', 'user_id'], true), index('idx_discussion_votes_user', ['user_id'])],
        foreignKeys: [foreignKey('fk_discussion_votes_post', 'post_id', 'discussion_posts', 'CASCADE'), foreignKey('fk_discussion_votes_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_follows',
        columns: [id(), int('user_id'), int('thread_id', { isNullable: true }), int('space_id', { isNullable: true }), datetime('created_at')],
        indices: [
          index('uq_discussion_follows_thread', ['user_id', 'thread_id'], true),
          index('uq_discussion_follows_space', ['user_id', 'space_id'], true),
          index('idx_discussion_follows_thread_users', ['thread_id', 'user_id']),
          index('idx_discussion_follows_space_users', ['space_id', 'user_id']),
        ],
        foreignKeys: [
          foreignKey('fk_discussion_follows_user', 'user_id', 'users', 'CASCADE'),
          foreignKey('fk_discussion_follows_thread', 'thread_id', 'discussion_threads', 'CASCADE'),
          foreignKey('fk_discussion_follows_space', 'space_id', 'discussion_spaces', 'CASCADE'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_mentions',
        columns: [id(), int('post_id'), int('user_id')],
        indices: [index('uq_discussion_mentions', ['post_id', 'user_id'], true), index('idx_discussion_mentions_user', ['user_id'])],
        foreignKeys: [foreignKey('fk_discussion_mentions_post', 'post_id', 'discussion_posts', 'CASCADE'), foreignKey('fk_discussion_mentions_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_conduct_acceptances',
        columns: [id(), int('user_id'), int('version'), datetime('accepted_at')],
        indices: [index('uq_discussion_conduct_acceptances_user', ['user_id'], true)],
        foreignKeys: [foreignKey('fk_discussion_conduct_acceptances_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_reports',
        columns: [
          id(),
          int('post_id'),
          int('reporter_id', { isNullable: true }),
          varchar('reason', 20),
          varchar('details', 1000, { default: "''" }),
          varchar('status', 12),
          int('decided_by_id', { isNullable: true }),
          datetime('decided_at', { isNullable: true }),
          datetime('created_at'),
        ],
        indices: [index('uq_discussion_reports', ['post_id', 'reporter_id'], true), index('idx_discussion_reports_status', ['status', 'created_at'])],
        foreignKeys: [
          foreignKey('fk_discussion_reports_post', 'post_id', 'discussion_posts', 'CASCADE'),
          foreignKey('fk_discussion_reports_reporter', 'reporter_id', 'users', 'SET NULL'),
          foreignKey('fk_discussion_reports_decided_by', 'decided_by_id', 'users', 'SET NULL'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'discussion_suspensions',
        columns: [id(), int('user_id'), varchar('reason', 1000), int('suspended_by_id', { isNullable: true }), datetime('starts_at'), datetime('ends_at'), datetime('lifted_at', { isNullable: true }), datetime('created_at')],
        indices: [index('idx_discussion_suspensions_user', ['user_id', 'ends_at'])],
        foreignKeys: [foreignKey('fk_discussion_suspensions_user', 'user_id', 'users', 'CASCADE'), foreignKey('fk_discussion_suspensions_suspended_by', 'suspended_by_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'in_app_notifications',
        columns: [
          id(),
          int('user_id'),
          varchar('kind', 30),
          varchar('dedupe_key', 120),
          varchar('title', 300),
          varchar('excerpt', 600, { default: "''" }),
          varchar('url', 500),
          int('actor_id', { isNullable: true }),
          varchar('email', 8),
          datetime('emailed_at', { isNullable: true }),
          datetime('read_at', { isNullable: true }),
          datetime('created_at'),
        ],
        indices: [
          index('uq_in_app_notifications', ['user_id', 'dedupe_key'], true),
          index('idx_in_app_notifications_unread', ['user_id', 'read_at', 'created_at']),
          index('idx_in_app_notifications_list', ['user_id', 'created_at']),
          index('idx_in_app_notifications_email', ['email', 'emailed_at', 'user_id']),
        ],
        foreignKeys: [foreignKey('fk_in_app_notifications_user', 'user_id', 'users', 'CASCADE'), foreignKey('fk_in_app_notifications_actor', 'actor_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'notification_settings',
        columns: [id(), int('user_id'), varchar('kind', 30), varchar('delivery', 8), datetime('updated_at')],
        indices: [index('uq_notification_settings', ['user_id', 'kind'], true)],
        foreignKeys: [foreignKey('fk_notification_settings_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await this.createSearchIndex(q);
  }

  async down(q: QueryRunner): Promise<void> {
    if (isSqliteEngine(q)) {
      for (const trigger of ['discussion_posts_fts_insert', 'discussion_posts_fts_delete', 'discussion_posts_fts_update']) await q.query(`DROP TRIGGER IF EXISTS ${trigger}`);
      await q.query('DROP TABLE IF EXISTS discussion_posts_fts');
    }
    for (const table of [
      'notification_settings',
      'in_app_notifications',
      'discussion_suspensions',
      'discussion_reports',
      'discussion_conduct_acceptances',
      'discussion_mentions',
      'discussion_follows',
      'discussion_votes',
      'discussion_posts',
      'discussion_threads',
      'discussion_space_members',
      'discussion_spaces',
    ]) {
      await q.dropTable(table);
    }
  }

  private async createSearchIndex(q: QueryRunner): Promise<void> {
    if (!isSqliteEngine(q)) {
      await q.createIndex('discussion_posts', new TableIndex({ name: 'ft_discussion_posts_search', columnNames: ['search_text'], isFulltext: true }));
      return;
    }
    // As for exchange_items (migrations/1765200000000-peer-exchange.ts): unicode61 with diacritics folded.
    await q.query(`CREATE VIRTUAL TABLE discussion_posts_fts USING fts5(search_text, content='discussion_posts', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`);
    await q.query(
      `CREATE TRIGGER discussion_posts_fts_insert AFTER INSERT ON discussion_posts BEGIN
         INSERT INTO discussion_posts_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END`,
    );
    await q.query(
      `CREATE TRIGGER discussion_posts_fts_delete AFTER DELETE ON discussion_posts BEGIN
         INSERT INTO discussion_posts_fts(discussion_posts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
       END`,
    );
    // Only when the text changes: votes and states change far more often and need no re-indexing.
    await q.query(
      `CREATE TRIGGER discussion_posts_fts_update AFTER UPDATE OF search_text ON discussion_posts BEGIN
         INSERT INTO discussion_posts_fts(discussion_posts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
         INSERT INTO discussion_posts_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END`,
    );
  }
}
