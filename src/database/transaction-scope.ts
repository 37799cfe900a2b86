import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

/** Marks the async flow of a UnitOfWork transaction's work. */
export const transactionScope = new AsyncLocalStorage<true>();

export class QueryOutsideTransaction extends Error {
  constructor() {
    super('A query was sent outside the open transaction from inside it: pass the transaction\'s EntityManager (tx) down instead');
  }
}

/**
 * On MySQL/MariaDB a transaction holds one pooled connection. Work inside it that queries through the
 * DataSource (not `tx`) needs a second connection: it does not see the transaction's writes, and when every
 * connection is held by such a transaction they all wait for each other forever (20 learners finishing a
 * lesson at once did exactly that). So asking the pool for a connection from inside a transaction is an
 * error, raised where the mistake is made.
 */
export function refuseQueriesBesideTransactions(dataSource: DataSource): void {
  const create = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (mode) => {
    if (transactionScope.getStore()) throw new QueryOutsideTransaction();
    return create(mode);
  };
}
