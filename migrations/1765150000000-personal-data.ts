import { MigrationInterface, QueryRunner } from 'typeorm';
import { index } from './support/columns';

/**
 * E-mails are found by the address they were sent to: "Download my data" lists a person's, and deleting the account
 * deletes them. Without an index each would read the whole outbox.
 */
export class PersonalData1765150000000 implements MigrationInterface {
  name = 'PersonalData1765150000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('mail_messages', index('idx_mail_messages_to', ['to_address']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('mail_messages', 'idx_mail_messages_to');
  }
}
