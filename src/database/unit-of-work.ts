import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { isLockConflict } from './errors';
import { isSqlite } from './sqlite-gate';
import { transactionScope } from './transaction-scope';

/** Tries of one transaction that MySQL/MariaDB picks as a deadlock victim or whose lock wait times out. */
export const TRANSACTION_ATTEMPTS = 5;

/**
 * The one place that runs transactions, isolated on both engines.
 *
 * On MySQL/MariaDB each transaction has its own pooled connection and `lockForUpdate` takes a row lock; a
 * transaction chosen as a deadlock victim (or timed out waiting for a lock) has been rolled back whole by
 * the server, so it runs again, a bounded number of times, after a short random pause. `work` must therefore
 * be safe to run again: it may only change the database through `tx` and state it rebuilds each time.
 * On SQLite every transaction holds the one connection alone (database/sqlite-gate.ts).
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('UnitOfWork');
  private readonly serialised: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.serialised = isSqlite(dataSource);
  }

  async run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction((tx) => transactionScope.run(true, () => work(tx)));
      } catch (err) {
        if (attempt >= TRANSACTION_ATTEMPTS || !isLockConflict(err)) throw err;
        this.logger.debug?.(`Transaction attempt ${attempt} lost a lock conflict; running it again`);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /**
   * Reads a row and, on MySQL/MariaDB, locks it until the transaction ends (SELECT … FOR UPDATE), so
   * writers to the same row take turns. On SQLite the transaction holds the database alone already.
   */
  async lockForUpdate<E extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<E>, where: Partial<E>): Promise<E | null> {
    const [row] = await this.lockAllForUpdate(tx, entity, [where]);
    return row ?? null;
  }

  /** `lockForUpdate` for several rows at once (each of `wheres` names one), locked in index order. */
  lockAllForUpdate<E extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<E>, wheres: Array<Partial<E>>): Promise<E[]> {
    if (!wheres.length) return Promise.resolve([]);
    const query = tx.getRepository(entity).createQueryBuilder('row').where(wheres);
    if (!this.serialised) query.setLock('pessimistic_write');
    return query.getMany();
  }
}
