import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { datetime, int } from './support/columns';

/**
 * `lesson_progress.watch_allowance_ms` and `heartbeat_at`: the time allowance that new video coverage is paid
 * from, and when it was last topped up, so heartbeats can never claim more video than real time allows. `enrolments.completion_recorded_at`: set by the `course.completed` job, so a
 * sweep can find completions whose job was lost (Redis down, crash) and enqueue them again.
 */
export class ProgressTracking1764250000000 implements MigrationInterface {
  name = 'ProgressTracking1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('lesson_progress', new TableColumn(int('watch_allowance_ms', { default: 0 })));
    await q.addColumn('lesson_progress', new TableColumn(datetime('heartbeat_at', { isNullable: true })));
    await q.addColumn('enrolments', new TableColumn(datetime('completion_recorded_at', { isNullable: true })));
    await q.createIndex('enrolments', new TableIndex({ name: 'idx_enrolments_completion_recorded', columnNames: ['status', 'completion_recorded_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('enrolments', 'idx_enrolments_completion_recorded');
    await q.dropColumn('enrolments', 'completion_recorded_at');
    await q.dropColumn('lesson_progress', 'heartbeat_at');
    await q.dropColumn('lesson_progress', 'watch_allowance_ms');
  }
}
