import { ConfigError, loadConfig } from '../config/config';
import { migrate } from './data-source';

/** `npm run migrate`: applies pending migrations to the configured database and exits. */
async function main() {
  const config = loadConfig();
  const ran = await migrate(config);
  const where = config.database.kind === 'mysql' ? 'MySQL' : config.database.file;
  console.log(ran.length ? `Applied ${ran.length} migration(s) to ${where}: ${ran.join(', ')}` : `${where} is up to date`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `Migration failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
