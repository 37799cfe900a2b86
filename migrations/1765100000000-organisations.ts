import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { bool, datetime, foreignKey, id, index, int, text, varchar } from './support/columns';

const BATCH = 500;

/**
 * Organisations become real: a type, an ODS code, a region and a status (the ones people typed so far stay active,
 * of type "other", for an administrator to tidy); verified e-mail domains; memberships; accounts that verify their
 * address or are deactivated; and the audit log. Each account's typed organisation becomes a pending membership:
 * nobody's address was verified before, so no organisation's managers see anyone until they verify.
 */
export class Organisations1765100000000 implements MigrationInterface {
  name = 'Organisations1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('organisations', [
      new TableColumn(varchar('type', 20, { default: "'other'" })),
      new TableColumn(varchar('ods_code', 6, { isNullable: true })),
      new TableColumn(varchar('region', 30, { isNullable: true })),
      new TableColumn(varchar('status', 12, { default: "'active'" })),
      new TableColumn(int('merged_into_id', { isNullable: true })),
      new TableColumn(int('requested_by_id', { isNullable: true })),
    ]);
    await q.createIndex('organisations', index('uq_organisations_ods_code', ['ods_code'], true));
    await q.createIndex('organisations', index('idx_organisations_status_name', ['status', 'name_key']));

    await q.addColumns('users', [new TableColumn(datetime('email_verified_at', { isNullable: true })), new TableColumn(datetime('deactivated_at', { isNullable: true }))]);
    await q.createIndex('users', index('idx_users_name', ['name']));

    await q.createTable(
      new Table({
        name: 'organisation_domains',
        columns: [id(), int('organisation_id'), varchar('domain', 253), datetime('created_at')],
        indices: [index('uq_organisation_domains_domain', ['domain'], true), index('idx_organisation_domains_organisation', ['organisation_id'])],
        foreignKeys: [foreignKey('fk_organisation_domains_organisation', 'organisation_id', 'organisations', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'organisation_memberships',
        columns: [
          id(),
          int('organisation_id'),
          int('user_id'),
          varchar('status', 10),
          bool('is_manager', { default: 0 }),
          datetime('requested_at'),
          datetime('joined_at', { isNullable: true }),
          datetime('updated_at'),
          int('decided_by_id', { isNullable: true }),
        ],
        indices: [
          index('uq_memberships_organisation_user', ['organisation_id', 'user_id'], true),
          index('idx_memberships_user_status', ['user_id', 'status']),
          index('idx_memberships_organisation_status', ['organisation_id', 'status', 'user_id']),
        ],
        foreignKeys: [foreignKey('fk_memberships_organisation', 'organisation_id', 'organisations', 'CASCADE'), foreignKey('fk_memberships_user', 'user_id', 'users', 'CASCADE')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          id(),
          int('actor_id', { isNullable: true }),
          varchar('actor_name', 120),
          varchar('action', 60),
          varchar('target_type', 30),
          int('target_id', { isNullable: true }),
          varchar('target_label', 200),
          text('details'),
          datetime('created_at'),
        ],
        indices: [
          index('idx_audit_log_created', ['created_at']),
          index('idx_audit_log_action_created', ['action', 'created_at']),
          index('idx_audit_log_target', ['target_type', 'target_id']),
          index('idx_audit_log_actor_created', ['actor_id', 'created_at']),
        ],
      }),
    );
    await this.membershipsFromTypedOrganisations(q);
  }

  /** One pending membership per account that named an organisation, a batch at a time, in id order. */
  private async membershipsFromTypedOrganisations(q: QueryRunner): Promise<void> {
    let after = 0;
    for (;;) {
      const rows: Array<{ id: number; organisationId: number; createdAt: Date | string }> = await q.manager
        .createQueryBuilder()
        .select(['u.id AS id', 'u.organisation_id AS organisationId', 'u.created_at AS createdAt'])
        .from('users', 'u')
        .where('u.organisation_id IS NOT NULL')
        .andWhere('u.id > :after', { after })
        .orderBy('u.id')
        .limit(BATCH)
        .getRawMany();
      if (!rows.length) break;
      await q.manager
        .createQueryBuilder()
        .insert()
        .into('organisation_memberships')
        .values(rows.map((r) => ({ organisation_id: r.organisationId, user_id: r.id, status: 'pending', is_manager: false, requested_at: r.createdAt, joined_at: null, updated_at: r.createdAt, decided_by_id: null })))
        .execute();
      after = Number(rows[rows.length - 1].id);
      if (rows.length < BATCH) break;
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_log');
    await q.dropTable('organisation_memberships');
    await q.dropTable('organisation_domains');
    await q.dropIndex('users', 'idx_users_name');
    await q.dropColumns('users', ['email_verified_at', 'deactivated_at']);
    await q.dropIndex('organisations', 'idx_organisations_status_name');
    await q.dropIndex('organisations', 'uq_organisations_ods_code');
    await q.dropColumns('organisations', ['type', 'ods_code', 'region', 'status', 'merged_into_id', 'requested_by_id']);
  }
}
