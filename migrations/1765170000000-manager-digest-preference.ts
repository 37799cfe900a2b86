import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { bool } from './support/columns';

/** Managers can turn their Monday required learning digest off (it is on unless they do). */
export class ManagerDigestPreference1765170000000 implements MigrationInterface {
  name = 'ManagerDigestPreference1765170000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('mail_preferences', new TableColumn(bool('manager_digest', { default: 1 })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('mail_preferences', 'manager_digest');
  }
}
