import { MigrationInterface, QueryRunner } from 'typeorm';
import { index } from './support/columns';

/**
 * The exchange search reads every published item's facet columns, counters and last change (to filter, count, sort
 * and page them in memory, see src/exchange/search/published-index.ts): this index holds them all, so that read never
 * touches the items' rows, which carry their whole searchable text (about 1.4 kB each: 100,000 of them outgrow a 128 MB
 * buffer pool).
 */
export class ExchangeSearch1765230000000 implements MigrationInterface {
  name = 'ExchangeSearch1765230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('exchange_items', index('idx_exchange_items_search_list', ['status', 'kind', 'care_setting', 'published_at', 'helpful_count', 'adoption_count', 'updated_at']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('exchange_items', 'idx_exchange_items_search_list');
  }
}
