import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { int } from './support/columns';

/**
 * A registration's own iCalendar SEQUENCE (RFC 5546): raised by the learner's own changes (cancelling,
 * registering again, being promoted from the waitlist). The SEQUENCE their calendar sees is the webinar's
 * plus this, so it grows with either and never goes back across cancel and re-register.
 */
export class RegistrationSequence1764900000000 implements MigrationInterface {
  name = 'RegistrationSequence1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('webinar_registrations', new TableColumn(int('sequence', { default: 0 })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('webinar_registrations', 'sequence');
  }
}
