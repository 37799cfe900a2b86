import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Transactions that really are isolated on both engines.
 *
 * TypeORM's SQLite drivers share one connection, so two concurrent `dataSource.transaction` calls would
 * interleave on it (the second becomes a savepoint inside the first). On SQLite, transactions therefore
 * queue behind each other in this process, which is the only process using the embedded database.
 * On MySQL/MariaDB each transaction has its own pooled connection, and `lockForUpdate` takes a row lock.
 */
/** One queue per database, however many modules provide their own UnitOfWork. */
const queues = new WeakMap<DataSource, { tail: Promise<unknown> }>();

@Injectable()
export class UnitOfWork {
  private readonly serialised: boolean;
  private readonly queue: { tail: Promise<unknown> };

  constructor(private readonly dataSource: DataSource) {
    this.serialised = ['better-sqlite3', 'sqlite'].includes(dataSource.options.type);
    if (!queues.has(dataSource)) queues.set(dataSource, { tail: Promise.resolve() });
    this.queue = queues.get(dataSource)!;
  }

  run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialised) return this.dataSource.transaction(work);
    const result = this.queue.tail.then(() => this.dataSource.transaction(work));
    this.queue.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Reads a row and, on MySQL/MariaDB, locks it until the transaction ends (SELECT … FOR UPDATE), so
   * writers to the same row take turns. On SQLite the queue in `run` already gives that.
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
