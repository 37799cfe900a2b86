import { MigrationInterface, QueryRunner } from 'typeorm';
import { index } from './support/columns';

/**
 * Indexes for the manager's view, which reads an organisation's staff by user id: each member's enrolments by status
 * and completion date (completions in a period are a range), with progress and course so the dashboard, the courses
 * report and the staff list's counts come from the index alone; and each member's valid certificates by issue date
 * with their CPD (CPD hours this year).
 */
export class ManagerView1765130000000 implements MigrationInterface {
  name = 'ManagerView1765130000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('enrolments', index('idx_enrolments_user_figures', ['user_id', 'status', 'completed_at', 'progress_percent', 'course_id']));
    await q.createIndex('certificates', index('idx_certificates_user_status_issued', ['user_id', 'status', 'issued_at', 'cpd_minutes']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('certificates', 'idx_certificates_user_status_issued');
    await q.dropIndex('enrolments', 'idx_enrolments_user_figures');
  }
}
