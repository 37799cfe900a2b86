import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../accounts/identity';
import { JobsService } from '../jobs/jobs.service';
import { WorkerHeartbeat } from './worker-heartbeat';
import { RedisConnection } from '../redis/redis.module';
import { Readiness } from './readiness';

/** /health gives each check this long: a dependency that does not answer is down, and /health answers promptly. */
const CHECK_TIMEOUT_MS = 2000;
/** /health/ready is asked every few seconds by a load balancer: it must answer well within the probe's own timeout. */
const READY_TIMEOUT_MS = 1000;

const NAMES = { database: 'the database', redis: 'Redis', queue: 'the job queue' } as const;

/**
 * The probes. `/health/live`: the process answers (no dependencies, so a Redis blip never gets a web process
 * restarted). `/health/ready`: the database and Redis answer within a second and the process is not draining (503
 * otherwise, so a load balancer sends requests elsewhere), with the number of live workers. `/health`: every part,
 * the job queue too, for people and monitors. None says more about the queues than their state: how many jobs wait or
 * failed is on the admin page, for administrators.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisConnection,
    private readonly jobs: JobsService,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly readiness: Readiness,
  ) {}

  @Public()
  @Get('live')
  live(@Res() reply: FastifyReply) {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  }

  @Public()
  @Get('ready')
  async ready(@Res() reply: FastifyReply) {
    const [database, redis, workers] = await Promise.all([this.database(READY_TIMEOUT_MS), within(this.redis.ping(), 'down' as const, READY_TIMEOUT_MS), within(this.heartbeat.alive(), null, READY_TIMEOUT_MS)]);
    const unavailable = (['database', 'redis'] as const).filter((part) => ({ database: database.status, redis })[part] === 'down');
    const ready = unavailable.length === 0 && !this.readiness.draining;
    const detail = this.readiness.draining ? 'Shutting down: not taking new requests.' : unavailable.length ? `Unavailable: ${listed(unavailable.map((part) => NAMES[part]))}.` : undefined;
    return reply
      .status(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        status: ready ? 'ready' : this.readiness.draining ? 'draining' : 'unavailable',
        ...(detail ? { detail } : {}),
        ...(unavailable.length ? { unavailable } : {}),
        database,
        redis: { status: redis },
        // Workers are reported, not required: a web process serves pages without them, and jobs wait in the queue.
        workers: workers === null ? { status: 'unknown' } : { status: workers.length ? 'up' : 'none', count: workers.length },
      });
  }

  @Public()
  @Get()
  async health(@Res() reply: FastifyReply) {
    const [database, redis, queue] = await Promise.all([
      this.database(CHECK_TIMEOUT_MS),
      within(this.redis.ping(), 'down' as const),
      within(
        this.jobs.stats().then(() => 'up' as const),
        'down' as const,
      ),
    ]);
    const unavailable = (['database', 'redis', 'queue'] as const).filter((part) => ({ database: database.status, redis, queue })[part] === 'down');
    const healthy = unavailable.length === 0;
    return reply
      .status(healthy ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        status: healthy ? 'ok' : 'unavailable',
        ...(healthy ? {} : { unavailable, detail: `Unavailable: ${listed(unavailable.map((part) => NAMES[part]))}.` }),
        database,
        redis: { status: redis },
        queue: { status: queue, driver: this.jobs.driver.kind },
      });
  }

  private async database(timeoutMs: number) {
    const engine = this.dataSource.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
    const up = await within(
      this.dataSource.query('SELECT 1').then(() => true),
      false,
      timeoutMs,
    );
    return { status: up ? 'up' : 'down', engine };
  }
}

/** The check's answer, or `fallback` if it fails or takes longer than `timeoutMs`. */
async function within<T, F>(check: Promise<T>, fallback: F, timeoutMs = CHECK_TIMEOUT_MS): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([check, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), timeoutMs)))]);
  } catch {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

const listed = (names: string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);
