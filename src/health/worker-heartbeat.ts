import { hostname } from 'node:os';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { RedisConnection } from '../redis/redis.module';

/** A worker process that said it is alive within the last BEAT_TTL_MS. */
export interface WorkerBeat {
  host: string;
  pid: number;
  startedAt: string;
  beatAt: string;
  concurrency: number;
}

export const BEAT_EVERY_MS = 10_000;
/** A worker that misses three beats is gone (crashed, stopped, cut off from Redis). */
export const BEAT_TTL_MS = 3 * BEAT_EVERY_MS;

/**
 * The readiness signal of worker processes: every process that consumes jobs writes a key in Redis every ten seconds
 * that expires after thirty, so `/health/ready` and the admin page can say how many workers are alive without
 * asking them. With in-process jobs (no Redis) the one process is its own worker.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHeartbeat');
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt: string;
  private readonly me = `${hostname()}:${process.pid}`;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.now().toISOString();
  }

  private get consumesJobs(): boolean {
    return this.config.role !== 'web';
  }

  onApplicationBootstrap(): void {
    if (!this.consumesJobs || !this.redis.client) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), BEAT_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.timer && this.redis.client?.status === 'ready') await this.redis.client.del(this.key(this.me)).catch(() => undefined);
  }

  /** The workers alive now; null when Redis does not answer (so nobody can tell). */
  async alive(): Promise<WorkerBeat[] | null> {
    const client = this.redis.client;
    if (!client) return this.consumesJobs ? [this.beatOfThisProcess()] : [];
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', this.key('*'), 'COUNT', 200);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      if (!keys.length) return [];
      const values = await client.mget(...keys);
      return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerBeat);
    } catch {
      return null;
    }
  }

  private key(who: string): string {
    return this.redis.key('workers', who);
  }

  private beatOfThisProcess(): WorkerBeat {
    return { host: hostname(), pid: process.pid, startedAt: this.startedAt, beatAt: this.clock.now().toISOString(), concurrency: this.config.jobs.concurrency };
  }

  private async beat(): Promise<void> {
    try {
      await this.redis.client!.set(this.key(this.me), JSON.stringify(this.beatOfThisProcess()), 'PX', BEAT_TTL_MS);
    } catch (err) {
      // Redis is away: the key expires, and readiness reports this worker gone until it beats again.
      this.logger.debug?.(`Heartbeat not written: ${err instanceof Error ? err.message : err}`);
    }
  }
}
