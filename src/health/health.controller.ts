import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../accounts/identity';
import { JobsService } from '../jobs/jobs.service';
import { RedisConnection } from '../redis/redis.module';

/** /health: 200 when the database and (if configured) Redis answer, 503 otherwise, with each part's state. */
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
    const [database, redis, queue] = await Promise.all([this.database(), this.redis.ping(), this.jobs.stats().then((s) => ({ status: 'up', ...s }), () => ({ status: 'down', driver: this.jobs.driver.kind }))]);
    const healthy = database.status === 'up' && redis !== 'down' && queue.status === 'up';
    return reply
      .status(healthy ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: healthy ? 'ok' : 'unavailable', database, redis: { status: redis }, queue });
  }

  private async database() {
    const engine = this.dataSource.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'up', engine };
    } catch {
      return { status: 'down', engine };
    }
  }
}
