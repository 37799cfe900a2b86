import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions, runMigrationsExclusively } from '../../src/database/data-source';
import { provisionEngines, type TestEngines } from '../support/engines';

/**
 * Several processes booting together on one empty database (a deploy of N web and M worker processes): each
 * migration is applied once, the others wait for it and find nothing left to do, and every process starts.
 */
describe('migrations under a lock', () => {
  let engines: TestEngines;
  const sources: DataSource[] = [];

  beforeEach(async () => {
    engines = await provisionEngines();
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => (s.isInitialized ? s.destroy() : undefined)));
    await engines.dispose();
  });

  const connect = async () => {
    const source = await new DataSource(await dataSourceOptions(loadConfig(engines.env))).initialize();
    sources.push(source);
    return source;
  };

  it('applies every migration once when several processes start at the same moment', async () => {
    // SQLite is one process's file; on it the "processes" take turns here, on MySQL/MariaDB they really race.
    const processes = engines.kind === 'mysql+redis' ? 4 : 1;
    const connected = await Promise.all(Array.from({ length: processes }, connect));
    const ran = await Promise.all(connected.map((source) => runMigrationsExclusively(source)));

    const applied = ran.flat();
    expect(applied.sort()).toEqual(migrations.map((m) => m.name).sort());
    expect(ran.filter((names) => names.length > 0)).toHaveLength(1);
    const rows: Array<{ name: string }> = await connected[0].query('SELECT name FROM migrations');
    expect(rows).toHaveLength(migrations.length);
    expect(new Set(rows.map((r) => r.name)).size).toBe(migrations.length);

    // A process started later finds nothing to do.
    expect(await runMigrationsExclusively(await connect())).toEqual([]);
  });

  it('waits for the lock only as long as it is told, then refuses to start with a reason', async () => {
    if (engines.kind !== 'mysql+redis') {
      // SQLite takes no lock: a second run right after the first simply has nothing to do.
      const source = await connect();
      await runMigrationsExclusively(source);
      expect(await runMigrationsExclusively(source)).toEqual([]);
      return;
    }
    const holder = await connect();
    const [{ name }] = (await holder.query('SELECT DATABASE() AS name')) as Array<{ name: string }>;
    const runner = holder.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT GET_LOCK(?, 0)', [`peer-academy:migrations:${name}`.slice(0, 64)]);
      const other = await connect();
      await expect(runMigrationsExclusively(other, 1)).rejects.toThrow(/applying migrations .* for over 1 s; not starting/);
      const [{ n }] = (await other.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'users'")) as Array<{ n: number | string }>;
      expect(Number(n)).toBe(0);
    } finally {
      await runner.release();
    }
  });
});
