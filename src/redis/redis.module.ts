import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import IORedis from 'ioredis';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { logConnectionTrouble } from './connection-log';

/**
 * The shared Redis connection for request-path state (sessions, rate limits), or null on embedded defaults.
 * It fails fast when Redis is away (no offline queue, one retry) so a request gets an answer, not a hang.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: IORedis | null;
  readonly prefix: string;

  constructor(@InjectConfig() config: AppConfig) {
    this.prefix = config.redis?.prefix ?? 'academy';
    this.client = config.redis
      ? new IORedis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) })
      : null;
    if (this.client) logConnectionTrouble(this.client, this.logger, 'sessions and rate limits');
  }

  key(...parts: Array<string | number>): string {
    return [this.prefix, ...parts].join(':');
  }

  async ping(): Promise<'up' | 'down' | 'not configured'> {
    if (!this.client) return 'not configured';
    try {
      return (await this.client.ping()) === 'PONG' ? 'up' : 'down';
    } catch {
      return 'down';
    }
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}

@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}

export const InjectRedis = () => Inject(RedisConnection);
