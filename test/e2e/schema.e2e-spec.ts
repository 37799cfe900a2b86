import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { migrate } from '../../src/database/data-source';
import { provisionEngines, TestEngines } from '../support/engines';
import { startTestApp, TestApp } from '../support/app';

describe('database schema', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('matches the entities exactly once the migrations have run (no pending schema change)', async () => {
    const dataSource = t.app.get(DataSource);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('never synchronises the schema from the entities', () => {
    expect(t.app.get(DataSource).options.synchronize).toBe(false);
  });

  it('has applied every migration and has none left to run', async () => {
    const dataSource = t.app.get(DataSource);
    expect(await dataSource.showMigrations()).toBe(false);
  });
});

describe('npm run migrate', () => {
  let engines: TestEngines;
  beforeAll(async () => {
    engines = await provisionEngines();
  });
  afterAll(() => engines.dispose());

  it('migrates an empty database, then finds nothing to do', async () => {
    const config = loadConfig(engines.env);
    const first = await migrate(config);
    expect(first.length).toBeGreaterThan(0);
    expect(await migrate(config)).toEqual([]);
  });
});
