import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../accounts/identity';
import { JobsService } from '../jobs/jobs.service';
import { RedisConnection } from '../redis/redis.module';

/** Each check gives up after this long: a dependency that does not answer is down, and /health answers promptly. */
const CHECK_TIMEOUT_MS = 2000;

const NAMES = { database: 'the database', redis: 'Redis', queue: 'the job queue' } as const;

/**
 * /health: 200 when the database and (if configured) Redis and the queue answer, 503 otherwise, with each part's
 * state and, when something is down, which (`unavailable`) in a sentence (`detail`).
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisConnection,
    private readonly jobs: JobsService,
  ) {}

  @Public()
  @Get()
  async health(@Res() reply: FastifyReply) {
    const [database, redis, queue] = await Promise.all([
      this.database(),
      within(this.redis.ping(), 'down' as const),
      within(
        this.jobs.stats().then((s) => ({ status: 'up', ...s })),
        null,
      ).then((stats) => stats ?? { status: 'down', driver: this.jobs.driver.kind }),
    ]);
    const unavailable = (['database', 'redis', 'queue'] as const).filter((part) => ({ database: database.status, redis, queue: queue.status })[part] === 'down');
    const healthy = unavailable.length === 0;
    return reply
      .status(healthy ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        status: healthy ? 'ok' : 'unavailable',
        ...(healthy ? {} : { unavailable, detail: `Unavailable: ${listed(unavailable.map((part) => NAMES[part]))}.` }),
        database,
        redis: { status: redis },
        queue,
      });
  }

  private async database() {
    const engine = this.dataSource.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
    const up = await within(
      this.dataSource.query('SELECT 1').then(() => true),
      false,
    );
    return { status: up ? 'up' : 'down', engine };
  }
}

/** The check's answer, or `fallback` if it fails or takes longer than CHECK_TIMEOUT_MS. */
async function within<T, F>(check: Promise<T>, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([check, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS)))]);
  } catch {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

const listed = (names: string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);
