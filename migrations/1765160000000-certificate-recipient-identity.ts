import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { varchar } from './support/columns';

/** A kept certificate's Open Badges recipient hash, frozen when its holder's account (and address) is deleted. */
export class CertificateRecipientIdentity1765160000000 implements MigrationInterface {
  name = 'CertificateRecipientIdentity1765160000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('certificates', new TableColumn(varchar('recipient_identity', 71, { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('certificates', 'recipient_identity');
  }
}
