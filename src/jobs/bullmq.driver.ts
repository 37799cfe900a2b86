import { Logger } from '@nestjs/common';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { KEEP_COMPLETED, KEEP_FAILED, QueueStats, QueueUnavailableError } from './job-registry';
import { logConnectionTrouble } from '../redis/connection-log';
import type { QueueDriver, RunJob } from './queue-driver';

const QUEUE_NAME = 'academy';
/** An enqueue that cannot reach Redis gives up after this long: a web request never waits on Redis. */
const ENQUEUE_TIMEOUT_MS = 1500;

/** BullMQ refuses ':' and all-digit custom ids; map ours onto ids it accepts, the same way every time. */
export const toBullJobId = (id: string) => (/^\d+$/.test(id) ? `j${id}` : id.replace(/:/g, '~'));

/**
 * Jobs on Redis through BullMQ. Producers (web) use a connection that fails fast when Redis is away;
 * consumers (worker) use one that waits and reconnects forever, as BullMQ requires.
 */
export class BullMqDriver implements QueueDriver {
  readonly kind = 'bullmq' as const;
  private readonly logger = new Logger('Jobs');
  private readonly producerConnection: IORedis;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: IORedis | null = null;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {
    this.producerConnection = new IORedis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    logConnectionTrouble(this.producerConnection, this.logger, 'job producer');
    this.queue = new Queue(QUEUE_NAME, { connection: this.producerConnection, prefix });
    this.queue.on('error', () => undefined); // connection trouble is logged once, above
  }

  async add(name: string, data: unknown, options: { jobId?: string; delayMs: number; attempts: number; backoffMs: number }): Promise<void> {
    const jobOptions: JobsOptions = {
      jobId: options.jobId === undefined ? undefined : toBullJobId(options.jobId),
      delay: options.delayMs || undefined,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: { age: KEEP_COMPLETED.ageSeconds, count: KEEP_COMPLETED.count },
      removeOnFail: { age: KEEP_FAILED.ageSeconds, count: KEEP_FAILED.count },
    };
    // For an id BullMQ still keeps, add() is a no-op that returns the existing job.
    await withTimeout(this.queue.add(name, data, jobOptions), ENQUEUE_TIMEOUT_MS);
  }

  async repeat(scheduleId: string, name: string, everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(scheduleId, { every: everyMs }, {
      name,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { age: KEEP_FAILED.ageSeconds, count: 1000 } },
    });
  }

  async consume(run: RunJob, concurrency: number): Promise<void> {
    this.workerConnection = new IORedis(this.redisUrl, { maxRetriesPerRequest: null } satisfies RedisOptions);
    logConnectionTrouble(this.workerConnection, this.logger, 'job worker');
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job) => run(job.name, job.data, { jobId: job.id ?? '', attempt: job.attemptsMade + 1 }),
      { connection: this.workerConnection, prefix: this.prefix, concurrency, autorun: true },
    );
    this.worker.on('error', () => undefined); // connection trouble is logged once, above
    this.worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.logger.error(`Job ${job.name} (${job.id}) failed after ${job.attemptsMade} attempt(s): ${err.message}; kept as failed`);
      }
    });
  }

  async stats(): Promise<QueueStats> {
    const counts = await withTimeout(this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'), ENQUEUE_TIMEOUT_MS);
    return {
      driver: this.kind,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
    };
  }

  async ping(): Promise<void> {
    await withTimeout(this.producerConnection.ping(), ENQUEUE_TIMEOUT_MS);
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.worker) {
      // close() waits for running jobs; past the timeout we force it, and BullMQ's stalled-job check retries them.
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => resolve(this.worker?.close(true)), timeoutMs);
      });
      await Promise.race([this.worker.close(), forced]);
      clearTimeout(timer);
    }
    await this.queue.close().catch(() => undefined);
    this.producerConnection.disconnect();
    this.workerConnection?.disconnect();
  }

  /** Removes every key of this queue; for tests that share one Redis. */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
    for (const scheduler of await this.queue.getJobSchedulers()) await this.queue.removeJobScheduler(scheduler.key);
  }

}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueUnavailableError(`the job queue did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } catch (err) {
    throw err instanceof QueueUnavailableError ? err : new QueueUnavailableError(err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
  }
}
