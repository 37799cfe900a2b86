import { Logger } from '@nestjs/common';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { KEEP_COMPLETED, KEEP_FAILED, QueueStats, QueueUnavailableError } from './job-registry';
import { logConnectionTrouble } from '../redis/connection-log';
import type { QueueDriver, RunJob } from './queue-driver';

const QUEUE_NAME = 'academy';
/** An enqueue that cannot reach Redis gives up after this long: a web request never waits on Redis. */
const ENQUEUE_TIMEOUT_MS = 1500;

/** How long a running job's lock lasts without renewal (renewed every half of it while the job runs). */
const LOCK_DURATION_MS = 15_000;
/** How often workers look for running jobs whose lock has lapsed (their worker died), to put them back. */
const STALLED_INTERVAL_MS = 5_000;

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

  async add(name: string, data: unknown, options: { jobId?: string; delayMs: number; attempts: number; backoffMs: number; rerunFinished: boolean }): Promise<void> {
    const jobId = options.jobId === undefined ? undefined : toBullJobId(options.jobId);
    const jobOptions: JobsOptions = {
      jobId,
      delay: options.delayMs || undefined,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: { age: KEEP_COMPLETED.ageSeconds, count: KEEP_COMPLETED.count },
      removeOnFail: { age: KEEP_FAILED.ageSeconds, count: KEEP_FAILED.count },
    };
    const add = async () => {
      if (options.rerunFinished && jobId !== undefined) await this.rerunIfFinished(jobId);
      // For an id BullMQ still keeps, add() is a no-op that returns the existing job.
      await this.queue.add(name, data, jobOptions);
    };
    // One deadline for the whole enqueue, however many round trips it takes.
    await withTimeout(add(), ENQUEUE_TIMEOUT_MS);
  }

  /**
   * A finished job of this id is moved back to waiting, its attempts reset (BullMQ's retry of a finished job: one
   * atomic step that only succeeds while the job is still in that finished set, so two sweeps cannot both do it).
   * A waiting, delayed or running job is left alone; with no job at all, the add that follows makes one.
   */
  private async rerunIfFinished(jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    if (!job) return;
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed') return;
    try {
      await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      this.logger.debug?.(`Job ${job.name} (${jobId}) was ${state}; running it again`);
    } catch (err) {
      // Someone else moved it first (another sweep re-ran it, or retention removed it and the add below makes it).
      const now = await job.getState();
      if (now === 'completed' || now === 'failed') throw err;
    }
  }

  /**
   * Re-creating a scheduler that exists is not harmless: BullMQ's upsert replaces its next run only if that run is
   * still delayed or waiting, and otherwise (the run is active) adds one more, so upserting every minute would add
   * runs. So a scheduler is upserted only when it is missing (after Redis lost its data: it then runs at once),
   * when its interval differs, or when its next run is gone (lost, or finished without its successor being made);
   * a healthy one is not touched.
   */
  async repeat(scheduleId: string, name: string, everyMs: number): Promise<void> {
    await withTimeout(this.ensureScheduler(scheduleId, name, everyMs), 3 * ENQUEUE_TIMEOUT_MS);
  }

  private async ensureScheduler(scheduleId: string, name: string, everyMs: number): Promise<void> {
    const template = {
      name,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { age: KEEP_FAILED.ageSeconds, count: 1000 } },
    };
    const scheduler = await this.queue.getJobScheduler(scheduleId);
    if (scheduler && scheduler.every === everyMs) {
      const next = scheduler.next ? await this.queue.getJob(`repeat:${scheduleId}:${scheduler.next}`) : undefined;
      const state = next ? await next.getState() : 'missing';
      if (state !== 'missing' && state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      // Look again: the run may just have been taken and its successor made meanwhile.
      const again = await this.queue.getJobScheduler(scheduleId);
      if (again && again.next !== scheduler.next) return;
      this.logger.warn(`The schedule of ${name} had lost its next run (${state}); making it again`);
      await this.queue.removeJobScheduler(scheduleId);
    } else if (!scheduler) {
      this.logger.log(`Scheduling ${name} every ${everyMs / 1000} s`);
    }
    await this.queue.upsertJobScheduler(scheduleId, { every: everyMs }, template);
  }

  async consume(run: RunJob, concurrency: number): Promise<void> {
    this.workerConnection = new IORedis(this.redisUrl, { maxRetriesPerRequest: null } satisfies RedisOptions);
    logConnectionTrouble(this.workerConnection, this.logger, 'job worker');
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job) => run(job.name, job.data, { jobId: job.id ?? '', attempt: job.attemptsMade + 1 }),
      {
        connection: this.workerConnection,
        prefix: this.prefix,
        concurrency,
        autorun: true,
        // A killed worker's running jobs go back to waiting once their lock has lapsed and the next stalled-job
        // check has seen it: within LOCK_DURATION_MS + STALLED_INTERVAL_MS (about 20 s), not BullMQ's default minute.
        lockDuration: LOCK_DURATION_MS,
        stalledInterval: STALLED_INTERVAL_MS,
      },
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
