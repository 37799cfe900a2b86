import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

/**
 * The peer exchange: items (case studies, tools, hacks) with their revisions and files, the moderators' list of systems,
 * the published projection's facet rows, the peer signals, and peer profiles with the contact relay.
 *
 * Full-text search is the one place the engines differ: an InnoDB FULLTEXT index on MySQL; on SQLite an FTS5 table
 * over the same three columns, an external-content index kept in step with exchange_items by triggers, so either way
 * the database keeps the index right in the transaction that changes an item (common/full-text.ts queries both).
 */
const isSqliteEngine = (q: QueryRunner) => ['better-sqlite3', 'sqlite'].includes(q.connection.options.type);

export class PeerExchange1765200000000 implements MigrationInterface {
  name = 'PeerExchange1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'exchange_items',
        columns: [
          id(),
          varchar('slug', 120),
          varchar('kind', 12),
          varchar('status', 12),
          int('author_id', { isNullable: true }),
          int('organisation_id'),
          int('published_revision_id', { isNullable: true }),
          int('latest_revision_id', { isNullable: true }),
          varchar('title', 200, { default: "''" }),
          varchar('summary', 600, { default: "''" }),
          varchar('care_setting', 20, { isNullable: true }),
          text('search_text', { isNullable: true }),
          datetime('published_at', { isNullable: true }),
          datetime('first_published_at', { isNullable: true }),
          datetime('review_due_at', { isNullable: true }),
          datetime('review_requested_at', { isNullable: true }),
          int('helpful_count', { default: 0 }),
          int('adoption_count', { default: 0 }),
          int('save_count', { default: 0 }),
          int('download_count', { default: 0 }),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [
          index('uq_exchange_items_slug', ['slug'], true),
          index('idx_exchange_items_status_published', ['status', 'published_at']),
          index('idx_exchange_items_status_adopted', ['status', 'adoption_count', 'published_at']),
          index('idx_exchange_items_status_helpful', ['status', 'helpful_count', 'published_at']),
          index('idx_exchange_items_kind_status', ['kind', 'status', 'published_at']),
          index('idx_exchange_items_care_setting', ['care_setting', 'status']),
          index('idx_exchange_items_author', ['author_id', 'status']),
          index('idx_exchange_items_organisation', ['organisation_id', 'status']),
          index('idx_exchange_items_review_due', ['status', 'review_due_at']),
        ],
        foreignKeys: [foreignKey('fk_exchange_items_author', 'author_id', 'users', 'SET NULL'), foreignKey('fk_exchange_items_organisation', 'organisation_id', 'organisations', 'RESTRICT')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'exchange_revisions',
        columns: [
          id(),
          int('item_id'),
          int('number'),
          varchar('status', 12),
          int('author_id', { isNullable: true }),
          varchar('title', 200),
          varchar('summary', 600, { default: "''" }),
          varchar('care_setting', 20, { isNullable: true }),
          ...['context', 'actions', 'results', 'key_figures', 'lessons', 'differently', 'purpose', 'how_to_use'].map((name) => text(name, { isNullable: true })),
          varchar('tool_type', 12, { isNullable: true }),
          varchar('licence', 24, { isNullable: true }),
          int('tool_file_id', { isNullable: true }),
          text('tip', { isNullable: true }),
          text('topic_ids', { isNullable: true }),
          text('system_ids', { isNullable: true }),
          text('partner_organisation_ids', { isNullable: true }),
          varchar('change_note', 500, { isNullable: true }),
          datetime('submitted_at', { isNullable: true }),
          datetime('decided_at', { isNullable: true }),
          int('decided_by_id', { isNullable: true }),
          text('feedback', { isNullable: true }),
          varchar('checklist', 200, { isNullable: true }),
          datetime('created_at'),
          datetime('updated_at'),
        ],
        indices: [index('uq_exchange_revisions_item_number', ['item_id', 'number'], true), index('idx_exchange_revisions_queue', ['status', 'submitted_at'])],
        foreignKeys: [
          foreignKey('fk_exchange_revisions_item', 'item_id', 'exchange_items', 'CASCADE'),
          foreignKey('fk_exchange_revisions_author', 'author_id', 'users', 'SET NULL'),
          foreignKey('fk_exchange_revisions_decided_by', 'decided_by_id', 'users', 'SET NULL'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'exchange_files',
        columns: [
          id(),
          int('item_id'),
          varchar('role', 12),
          int('version', { isNullable: true }),
          varchar('storage_key', 255),
          varchar('file_name', 160),
          varchar('content_type', 100),
          int('bytes'),
          varchar('sha256', 64),
          int('uploaded_by_id', { isNullable: true }),
          int('download_count', { default: 0 }),
          datetime('created_at'),
        ],
        indices: [index('idx_exchange_files_item_role', ['item_id', 'role', 'version']), index('idx_exchange_files_uploaded_by', ['uploaded_by_id'])],
        foreignKeys: [foreignKey('fk_exchange_files_item', 'item_id', 'exchange_items', 'CASCADE'), foreignKey('fk_exchange_files_uploaded_by', 'uploaded_by_id', 'users', 'SET NULL')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'exchange_revision_files',
        columns: [id(), int('revision_id'), int('file_id'), int('position', { default: 0 })],
        indices: [index('uq_exchange_revision_files', ['revision_id', 'file_id'], true), index('idx_exchange_revision_files_file', ['file_id'])],
        foreignKeys: [foreignKey('fk_exchange_revision_files_revision', 'revision_id', 'exchange_revisions', 'CASCADE'), foreignKey('fk_exchange_revision_files_file', 'file_id', 'exchange_files', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'exchange_systems',
        columns: [id(), varchar('slug', 120), varchar('name', 120), varchar('supplier', 120), varchar('category', 20), datetime('retired_at', { isNullable: true }), int('created_by_id', { isNullable: true }), datetime('created_at')],
        indices: [index('uq_exchange_systems_slug', ['slug'], true), index('idx_exchange_systems_name', ['name'])],
      }),
    );
    await this.facetTable(q, 'exchange_item_topics', 'topic_id', 'topics', 'CASCADE', 'fk_exchange_item_topics', 'idx_exchange_item_topics_topic', 'uq_exchange_item_topics');
    await this.facetTable(q, 'exchange_item_systems', 'system_id', 'exchange_systems', 'RESTRICT', 'fk_exchange_item_systems', 'idx_exchange_item_systems_system', 'uq_exchange_item_systems');
    await q.createTable(
      new Table({
        name: 'exchange_item_organisations',
        columns: [id(), int('item_id'), int('organisation_id'), bool('is_lead', { default: 0 })],
        indices: [index('uq_exchange_item_organisations', ['item_id', 'organisation_id'], true), index('idx_exchange_item_organisations_organisation', ['organisation_id', 'item_id'])],
        foreignKeys: [
          foreignKey('fk_exchange_item_organisations_item', 'item_id', 'exchange_items', 'CASCADE'),
          foreignKey('fk_exchange_item_organisations_organisation', 'organisation_id', 'organisations', 'CASCADE'),
        ],
      }),
    );
    for (const [name, userIndex] of [
      ['exchange_helpful_votes', ['user_id']],
      ['exchange_saves', ['user_id', 'created_at']],
    ] as const) {
      await q.createTable(
        new Table({
          name,
          columns: [id(), int('item_id'), int('user_id'), datetime('created_at')],
          indices: [index(`uq_${name}`, ['item_id', 'user_id'], true), index(`idx_${name}_user`, [...userIndex])],
          foreignKeys: [foreignKey(`fk_${name}_item`, 'item_id', 'exchange_items', 'CASCADE'), foreignKey(`fk_${name}_user`, 'user_id', 'users', 'CASCADE')],
        }),
      );
    }
    await q.createTable(
      new Table({
        name: 'exchange_adoptions',
        columns: [id(), int('item_id'), int('organisation_id'), int('recorded_by_id', { isNullable: true }), varchar('note', 500, { isNullable: true }), datetime('created_at'), datetime('updated_at')],
        indices: [index('uq_exchange_adoptions', ['item_id', 'organisation_id'], true), index('idx_exchange_adoptions_organisation', ['organisation_id', 'created_at']), index('idx_exchange_adoptions_recorded_by', ['recorded_by_id'])],
        foreignKeys: [
          foreignKey('fk_exchange_adoptions_item', 'item_id', 'exchange_items', 'CASCADE'),
          foreignKey('fk_exchange_adoptions_organisation', 'organisation_id', 'organisations', 'CASCADE'),
          foreignKey('fk_exchange_adoptions_recorded_by', 'recorded_by_id', 'users', 'SET NULL'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'peer_profiles',
        columns: [id(), int('user_id'), bool('listed', { default: 0 }), varchar('bio', 600, { default: "''" }), bool('open_to_contact', { default: 0 }), datetime('created_at'), datetime('updated_at')],
        indices: [index('uq_peer_profiles_user', ['user_id'], true), index('idx_peer_profiles_listed', ['listed', 'updated_at'])],
        foreignKeys: [foreignKey('fk_peer_profiles_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    for (const [name, column, table] of [
      ['peer_profile_systems', 'system_id', 'exchange_systems'],
      ['peer_profile_topics', 'topic_id', 'topics'],
    ] as const) {
      const short = column.replace('_id', '');
      await q.createTable(
        new Table({
          name,
          columns: [id(), int('user_id'), int(column)],
          indices: [index(`uq_${name}`, ['user_id', column], true), index(`idx_${name}_${short}`, [column, 'user_id'])],
          foreignKeys: [foreignKey(`fk_${name}_user`, 'user_id', 'users', 'CASCADE'), foreignKey(`fk_${name}_${short}`, column, table, 'CASCADE')],
        }),
      );
    }
    await q.createTable(
      new Table({
        name: 'peer_messages',
        columns: [id(), int('sender_id'), int('recipient_id'), int('in_reply_to_id', { isNullable: true }), varchar('subject', 150), text('body'), datetime('created_at')],
        indices: [index('idx_peer_messages_sender', ['sender_id', 'created_at']), index('idx_peer_messages_recipient', ['recipient_id', 'created_at']), index('idx_peer_messages_reply', ['in_reply_to_id'])],
        foreignKeys: [
          foreignKey('fk_peer_messages_sender', 'sender_id', 'users', 'CASCADE'),
          foreignKey('fk_peer_messages_recipient', 'recipient_id', 'users', 'CASCADE'),
          foreignKey('fk_peer_messages_in_reply_to', 'in_reply_to_id', 'peer_messages', 'CASCADE'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'peer_blocks',
        columns: [id(), int('blocker_id'), int('blocked_id'), datetime('created_at')],
        indices: [index('uq_peer_blocks', ['blocker_id', 'blocked_id'], true), index('idx_peer_blocks_blocked', ['blocked_id'])],
        foreignKeys: [foreignKey('fk_peer_blocks_blocker', 'blocker_id', 'users', 'CASCADE'), foreignKey('fk_peer_blocks_blocked', 'blocked_id', 'users', 'CASCADE')],
      }),
    );
    await this.createSearchIndex(q);
  }

  async down(q: QueryRunner): Promise<void> {
    if (isSqliteEngine(q)) {
      for (const trigger of ['exchange_items_fts_insert', 'exchange_items_fts_delete', 'exchange_items_fts_update']) await q.query(`DROP TRIGGER IF EXISTS ${trigger}`);
      await q.query('DROP TABLE IF EXISTS exchange_items_fts');
    }
    for (const table of [
      'peer_blocks',
      'peer_messages',
      'peer_profile_topics',
      'peer_profile_systems',
      'peer_profiles',
      'exchange_adoptions',
      'exchange_saves',
      'exchange_helpful_votes',
      'exchange_item_organisations',
      'exchange_item_systems',
      'exchange_item_topics',
      'exchange_systems',
      'exchange_revision_files',
      'exchange_files',
      'exchange_revisions',
      'exchange_items',
    ]) {
      await q.dropTable(table);
    }
  }

  private async facetTable(q: QueryRunner, name: string, column: string, table: string, onDelete: 'CASCADE' | 'RESTRICT', fk: string, byValue: string, unique: string): Promise<void> {
    const short = column.replace('_id', '');
    await q.createTable(
      new Table({
        name,
        columns: [id(), int('item_id'), int(column)],
        indices: [index(unique, ['item_id', column], true), index(byValue, [column, 'item_id'])],
        foreignKeys: [foreignKey(`${fk}_item`, 'item_id', 'exchange_items', 'CASCADE'), foreignKey(`${fk}_${short}`, column, table, onDelete)],
      }),
    );
  }

  private async createSearchIndex(q: QueryRunner): Promise<void> {
    if (!isSqliteEngine(q)) {
      await q.createIndex('exchange_items', new TableIndex({ name: 'ft_exchange_items_search', columnNames: ['title', 'summary', 'search_text'], isFulltext: true }));
      return;
    }
    // unicode61 with diacritics folded, as InnoDB's collation compares "Café" and "cafe" alike.
    await q.query(
      `CREATE VIRTUAL TABLE exchange_items_fts USING fts5(title, summary, search_text, content='exchange_items', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`,
    );
    await q.query(
      `CREATE TRIGGER exchange_items_fts_insert AFTER INSERT ON exchange_items BEGIN
         INSERT INTO exchange_items_fts(rowid, title, summary, search_text) VALUES (new.id, new.title, new.summary, new.search_text);
       END`,
    );
    await q.query(
      `CREATE TRIGGER exchange_items_fts_delete AFTER DELETE ON exchange_items BEGIN
         INSERT INTO exchange_items_fts(exchange_items_fts, rowid, title, summary, search_text) VALUES ('delete', old.id, old.title, old.summary, old.search_text);
       END`,
    );
    // Only when the searchable text changes: the counters change far more often and need no re-indexing.
    await q.query(
      `CREATE TRIGGER exchange_items_fts_update AFTER UPDATE OF title, summary, search_text ON exchange_items BEGIN
         INSERT INTO exchange_items_fts(exchange_items_fts, rowid, title, summary, search_text) VALUES ('delete', old.id, old.title, old.summary, old.search_text);
         INSERT INTO exchange_items_fts(rowid, title, summary, search_text) VALUES (new.id, new.title, new.summary, new.search_text);
       END`,
    );
  }
}
