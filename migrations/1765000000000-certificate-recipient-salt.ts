import { randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { varchar } from './support/columns';

const BATCH = 500;

/**
 * Each certificate's Open Badges recipient salt, stored (it was derived from SESSION_SECRET, so rotating the secret
 * changed every published assertion). Certificates already issued get a fresh random salt here, a batch at a time
 * through the query builder (no dialect SQL); the column is then made NOT NULL. Their assertions keep their URL and
 * stay verifiable: the hosted document now shows the new salt and the identity hashed with it.
 */
export class CertificateRecipientSalt1765000000000 implements MigrationInterface {
  name = 'CertificateRecipientSalt1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('certificates', new TableColumn(varchar('recipient_salt', 32, { isNullable: true })));
    for (;;) {
      const rows: Array<{ id: number }> = await q.manager
        .createQueryBuilder()
        .select('c.id', 'id')
        .from('certificates', 'c')
        .where('c.recipient_salt IS NULL')
        .orderBy('c.id')
        .limit(BATCH)
        .getRawMany();
      for (const row of rows) {
        await q.manager
          .createQueryBuilder()
          .update('certificates')
          .set({ recipient_salt: randomBytes(16).toString('hex') })
          .where('id = :id', { id: row.id })
          .execute();
      }
      if (rows.length < BATCH) break;
    }
    await q.changeColumn('certificates', 'recipient_salt', new TableColumn(varchar('recipient_salt', 32)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('certificates', 'recipient_salt');
  }
}
