import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

const during = new AsyncLocalStorage<string[]>();
const watched = new WeakSet<DataSource>();

/**
 * The SELECT statements that `work` issues (a request through a Visitor, which drives Fastify's inject in this
 * process), and only those: each query is attributed by its async context, so jobs and sweeps running meanwhile do
 * not count. For tests that keep a page's queries from growing back (no timings: those belong in the benches).
 */
export async function selectsDuring(ds: DataSource, work: () => Promise<unknown>): Promise<string[]> {
  if (!watched.has(ds)) {
    const logger = ds.logger;
    const logQuery = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      if (/^\s*SELECT\b/i.test(query)) during.getStore()?.push(query);
      return logQuery(query, parameters, runner);
    };
    watched.add(ds);
  }
  const seen: string[] = [];
  await during.run(seen, work);
  return seen;
}
