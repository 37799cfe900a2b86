import 'reflect-metadata';
import { createLogger, createWebApp, createWorker } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';
import { seedDemo } from './demo/demo.seeder';

/** Starts the academy: PROCESS_ROLE=web (HTTP), worker (jobs) or all (both, the embedded default). */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config);
  const forceExit = () => setTimeout(() => process.exit(1), (config.shutdownTimeoutSeconds + 5) * 1000).unref();
  process.once('SIGTERM', forceExit);
  process.once('SIGINT', forceExit);

  if (config.role === 'worker') {
    await createWorker(config, logger);
    logger.info('Worker started');
    return;
  }
  const app = await createWebApp(config, logger);
  await app.listen({ port: config.port, host: config.host });
  if (config.demoData) await seedDemo(app, config.publicUrl, (line) => process.stdout.write(`${line}\n`));
  logger.info(`${config.academyName} is running at ${config.publicUrl} (role ${config.role}, ${config.database.kind}, jobs ${config.redis ? 'bullmq' : 'in-process'})`);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
