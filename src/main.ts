import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { createLogger, createWebApp, createWorker } from './bootstrap';
import { Clock } from './common/clock';
import { ConfigError, loadConfig } from './config/config';
import { seedDemo } from './demo/demo.seeder';
import { seedStartingSystems } from './exchange/starting-systems';
import { Readiness } from './health/readiness';

/** Starts the academy: PROCESS_ROLE=web (HTTP), worker (jobs) or all (both, the embedded default). */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config);

  const app = config.role === 'worker' ? await createWorker(config, logger) : await createWebApp(config, logger);
  stopGracefullyOnSignal(app, { timeoutSeconds: config.shutdownTimeoutSeconds, drainSeconds: config.role === 'worker' ? 0 : config.shutdownDrainSeconds }, logger);
  if (config.role === 'worker') {
    logger.info('Worker started');
    return;
  }
  // Demo content exists before the first request can arrive, so a newcomer never sees an empty academy.
  if (config.demoData) {
    await app.init();
    await seedDemo(app, config.publicUrl, (line) => process.stdout.write(`${line}\n`));
  }
  // On every install, the moderators' list of systems starts with widely used UK ones (only while it is empty).
  await app.init();
  await seedStartingSystems(app.get(DataSource), app.get(Clock).now());
  await (app as NestFastifyApplication).listen({ port: config.port, host: config.host });
  logger.info(`${config.academyName} is running at ${config.publicUrl} (role ${config.role}, ${config.database.kind}, jobs ${config.redis ? 'bullmq' : 'in-process'})`);
}

/**
 * On SIGTERM: first drain (a web process answers /health/ready with 503 for SHUTDOWN_DRAIN_SECONDS while it goes on
 * serving, so the load balancer takes it out of rotation before it stops listening), then stop taking requests, let
 * in-flight requests and running jobs finish, close connections, exit 0. SIGINT (Ctrl+C) skips the drain. If the
 * stop takes longer than SHUTDOWN_TIMEOUT_SECONDS, exit 1 anyway.
 */
function stopGracefullyOnSignal(app: INestApplicationContext, { timeoutSeconds, drainSeconds }: { timeoutSeconds: number; drainSeconds: number }, logger: Logger) {
  const stop = async (signal: NodeJS.Signals) => {
    if (signal === 'SIGTERM' && drainSeconds > 0) {
      logger.info(`${signal} received: draining for ${drainSeconds} s (/health/ready answers 503)`);
      app.get(Readiness, { strict: false }).drain();
      await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
    }
    logger.info(`${signal} received: finishing in-flight work`);
    setTimeout(() => {
      logger.error(`Still busy after ${timeoutSeconds} s; exiting anyway`);
      process.exit(1);
    }, timeoutSeconds * 1000).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      logger.error(`Shutdown failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
