import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { datetime } from './support/columns';

/**
 * A delivery lease on each outbox message: the job delivering it holds it until then, so a sweep (or a
 * second job) that finds the message still pending while it is being sent leaves it alone.
 */
export class MailDeliveryLease1764800000000 implements MigrationInterface {
  name = 'MailDeliveryLease1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('mail_messages', new TableColumn(datetime('locked_until', { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('mail_messages', 'locked_until');
  }
}
