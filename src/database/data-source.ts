import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { AppConfig } from '../config/config';
import { SnakeNamingStrategy } from './naming.strategy';
import { isSqlite, serialiseSqlite } from './sqlite-gate';
import { refuseQueriesBesideTransactions } from './transaction-scope';

/**
 * The one DataSource definition, shared by the app (which adds its entities) and `npm run migrate`.
 * `synchronize` is hard-coded off: the schema changes only through the files in migrations/.
 */
export async function dataSourceOptions(config: AppConfig): Promise<DataSourceOptions> {
  const common = {
    synchronize: false,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    namingStrategy: new SnakeNamingStrategy(),
    // Failures reach our own logs through the errors they raise; TypeORM's console logging would repeat them.
    logging: false,
  };
  if (config.database.kind === 'mysql') {
    return {
      ...common,
      type: await serverFlavour(config.database.url),
      url: config.database.url.replace(/^mariadb:/, 'mysql:'),
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      extra: { connectionLimit: 20, connectTimeout: 5000 },
    };
  }
  mkdirSync(dirname(config.database.file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.database.file,
    // WAL lets readers run while a writer commits; busy_timeout waits for a lock instead of failing at once.
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  };
}

/**
 * TypeORM reads MariaDB's catalogue differently from MySQL's (column defaults, for one), so it must be told
 * which it talks to. A mariadb:// URL says so; for mysql:// we ask the server once at start.
 */
async function serverFlavour(url: string): Promise<'mysql' | 'mariadb'> {
  if (url.startsWith('mariadb:')) return 'mariadb';
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ uri: url, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query('SELECT VERSION() AS version');
    return /mariadb/i.test((rows as Array<{ version: string }>)[0].version) ? 'mariadb' : 'mysql';
  } finally {
    await connection.end();
  }
}

/**
 * Connects, and applies pending migrations when `migrate` says so (see runMigrationsExclusively). On SQLite every
 * statement then goes through one gate; on MySQL/MariaDB work inside a transaction may not ask the pool for a second
 * connection.
 */
export async function initialiseDataSource(dataSource: DataSource, options: { migrate?: boolean } = {}): Promise<DataSource> {
  await dataSource.initialize();
  if (options.migrate) await runMigrationsExclusively(dataSource);
  if (isSqlite(dataSource)) serialiseSqlite(dataSource);
  else refuseQueriesBesideTransactions(dataSource);
  return dataSource;
}

/** How long a process waits for another one's migrations before it gives up starting. */
export const MIGRATIONS_LOCK_WAIT_SECONDS = 600;

/**
 * Applies pending migrations, one process at a time. On MySQL/MariaDB a named lock (GET_LOCK, held by one
 * connection of this process until the migrations are done, and freed by the server if the process dies) makes the
 * processes that boot together on one database take turns: the first applies each migration once, the others wait,
 * then find nothing left to do. SQLite is one process's file; it needs no lock. Returns the names it ran.
 */
export async function runMigrationsExclusively(dataSource: DataSource, waitSeconds = MIGRATIONS_LOCK_WAIT_SECONDS): Promise<string[]> {
  const apply = async () => (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  if (isSqlite(dataSource)) return apply();
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  try {
    const [{ name }] = (await holder.query('SELECT DATABASE() AS name')) as Array<{ name: string }>;
    // Lock names are server-wide: one per database, so that two academies on one server do not wait for each other.
    const lock = `peer-academy:migrations:${name}`.slice(0, 64);
    const [{ acquired }] = (await holder.query('SELECT GET_LOCK(?, ?) AS acquired', [lock, waitSeconds])) as Array<{ acquired: number | string | null }>;
    if (Number(acquired) !== 1) throw new Error(`Another process has been applying migrations to ${name} for over ${waitSeconds} s; not starting`);
    try {
      return await apply();
    } finally {
      await holder.query('SELECT RELEASE_LOCK(?)', [lock]);
    }
  } finally {
    await holder.release();
  }
}

/** Applies pending migrations; returns the names it ran. */
export async function migrate(config: AppConfig): Promise<string[]> {
  // Migrations run alone and open their own transactions, so this DataSource is not gated.
  const dataSource = await new DataSource(await dataSourceOptions(config)).initialize();
  try {
    return await runMigrationsExclusively(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
