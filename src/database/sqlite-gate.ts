import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * The one path every SQLite statement takes.
 *
 * TypeORM's better-sqlite3 driver has a single connection and a single query runner shared by everything:
 * while a transaction is open, any other statement (a sign-in writing its session, an e-mail recorded in
 * the outbox) would run inside that transaction, read its uncommitted rows and vanish if it rolls back.
 * So statements take turns: a transaction holds the turn from BEGIN to COMMIT or ROLLBACK, and a statement
 * outside any transaction waits for its turn and runs alone (SQLite commits it by itself). Which async
 * flow holds the turn is known through AsyncLocalStorage, so statements of the transaction, however deep
 * in the call chain they are issued, run at once.
 *
 * Inside a transaction, do not wait on work that reaches the database along another async path (a batch
 * started by some other request, say): that work waits for the transaction, which waits for it.
 */
export class SqliteGate {
  private readonly turn = new AsyncLocalStorage<object>();
  private holder: object | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  /** True when the calling async flow holds the turn (it is inside a transaction). */
  get held(): boolean {
    const mine = this.turn.getStore();
    return !!mine && mine === this.holder;
  }

  /** Runs `work` holding the turn: at once when the caller holds it already, else after every earlier turn. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.held) return work();
    const token = {};
    const result = this.tail.then(() => {
      this.holder = token;
      return this.turn.run(token, work);
    });
    const released = result.then(
      () => this.release(token),
      () => this.release(token),
    );
    this.tail = released;
    return result;
  }

  private release(token: object) {
    // Work started inside a turn that outlives it (a timer, say) keeps the token, which then no longer counts.
    if (this.holder === token) this.holder = null;
  }
}

const gates = new WeakMap<DataSource, SqliteGate>();

/**
 * Routes every statement and transaction of an initialised better-sqlite3 DataSource through one SqliteGate.
 * Transactions hold the turn from start to end: `DataSource.transaction`/`EntityManager.transaction`, and the
 * transaction TypeORM opens by itself around `save`, `remove`, `softRemove` and `recover`. Each other statement
 * waits for its turn. A transaction started by hand on the shared query runner, outside the gate, is refused
 * loudly rather than left to swallow other writes.
 */
export function serialiseSqlite(dataSource: DataSource): SqliteGate {
  const existing = gates.get(dataSource);
  if (existing) return existing;
  const gate = new SqliteGate();
  gates.set(dataSource, gate);

  // Repositories call their manager's methods, so patching the root manager covers every repository too.
  const manager = dataSource.manager as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['transaction', 'save', 'remove', 'softRemove', 'recover'] satisfies Array<keyof EntityManager>) {
    const original = manager[method].bind(manager);
    manager[method] = (...args: unknown[]) => gate.exclusive(() => original(...args));
  }

  // The driver hands every caller the same query runner; wrap it once.
  const runner: QueryRunner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) => gate.exclusive(() => query(...args))) as QueryRunner['query'];
  const startTransaction = runner.startTransaction.bind(runner);
  runner.startTransaction = (isolationLevel) => {
    if (!gate.held) {
      return Promise.reject(new Error('On SQLite a transaction must run through UnitOfWork.run or DataSource.transaction, so that it holds the connection alone'));
    }
    return startTransaction(isolationLevel);
  };
  return gate;
}

export const isSqlite = (dataSource: DataSource) => ['better-sqlite3', 'sqlite'].includes(dataSource.options.type);
