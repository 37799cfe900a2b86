import type { Logger } from '@nestjs/common';
import type IORedis from 'ioredis';

/** Logs when a Redis connection goes down and when it comes back, not every failed reconnect in between. */
export function logConnectionTrouble(connection: IORedis, logger: Logger, name: string): void {
  let down = false;
  connection.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn(`Redis (${name}) is unreachable: ${err.message}; retrying`);
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`Redis (${name}) is reachable again`);
  });
}
