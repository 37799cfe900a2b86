import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { varchar } from './support/columns';

/** Video lessons carry a captions file (WebVTT): prerecorded video needs captions (WCAG 1.2.2). */
export class LessonCaptions1764200000000 implements MigrationInterface {
  name = 'LessonCaptions1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('lessons', new TableColumn(varchar('captions_key', 255, { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('lessons', 'captions_key');
  }
}
