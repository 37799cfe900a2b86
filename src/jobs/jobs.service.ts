/* eslint-disable no-restricted-syntax -- queue mechanics (delays, retention, timing logs) run on real time, as BullMQ's do */
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { BullMqDriver } from './bullmq.driver';
import { InProcessDriver } from './in-process.driver';
import { JOB_HANDLER, JobHandlerMetadata } from './job-handler.decorator';
import { DEFAULT_ATTEMPTS, EnqueueOptions, JobContext, JobData, JobHandler, JobName, QueueStats } from './job-registry';
import type { QueueDriver } from './queue-driver';

/** How often a worker checks that every repeating job still has its schedule (Redis may have lost them). */
export const SCHEDULE_CHECK_MS = 30_000;

interface RegisteredHandler {
  metadata: JobHandlerMetadata;
  instance: JobHandler;
}

/**
 * The jobs port every feature uses: `enqueue` a named job, and mark one provider per job name with
 * `@JobHandler(name)`. The driver (BullMQ on Redis, or in-process) is chosen by configuration.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  readonly driver: QueueDriver;
  private readonly handlers = new Map<string, RegisteredHandler>();
  private scheduleCheck: NodeJS.Timeout | undefined;
  private schedulesFailing = false;
  private checking: Promise<void> | null = null;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {
    this.driver = config.redis ? new BullMqDriver(config.redis.url, `${config.redis.prefix}:bull`) : new InProcessDriver();
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.collectHandlers();
    } catch (err) {
      // The process will not start: release the queue's connections so it can exit.
      await this.driver.close(0);
      throw err;
    }
    if (this.config.role === 'web') return;
    await this.ensureSchedules();
    await this.driver.consume((name, data, context) => this.run(name, data, context), this.config.jobs.concurrency);
    this.logger.log(`Consuming jobs (${this.driver.kind}, concurrency ${this.config.jobs.concurrency}): ${[...this.handlers.keys()].join(', ')}`);
    // Schedules live in Redis, which may lose them (a failover, an instance replaced): workers put them back.
    this.scheduleCheck = setInterval(() => {
      // One check at a time: against a Redis that answers slowly, a check can outlast the interval.
      if (this.checking) return;
      this.checking = this.ensureSchedules().finally(() => (this.checking = null));
    }, SCHEDULE_CHECK_MS);
    this.scheduleCheck.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.scheduleCheck);
    await this.driver.close(this.config.shutdownTimeoutSeconds * 1000);
  }

  /**
   * Makes sure every repeating job has its schedule: missing ones are made again (they then run at once), healthy
   * ones are left alone. Run at start and every SCHEDULE_CHECK_MS by each worker; a queue that cannot be reached
   * is logged once per outage and tried again at the next check.
   */
  async ensureSchedules(): Promise<void> {
    let failure: string | null = null;
    for (const { metadata } of this.handlers.values()) {
      const everyMs = this.intervalOf(metadata);
      if (!everyMs) continue;
      try {
        await this.driver.repeat(`every.${metadata.name}`, metadata.name, everyMs);
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
    }
    if (failure && !this.schedulesFailing) this.logger.warn(`Could not check the repeating jobs' schedules; trying again in ${SCHEDULE_CHECK_MS / 1000} s: ${failure}`);
    else if (!failure && this.schedulesFailing) this.logger.log('Repeating jobs are scheduled again');
    this.schedulesFailing = !!failure;
  }

  /** A sweep runs every SWEEP_INTERVAL_SECONDS at most, so that after an outage lost work is redone within it. */
  private intervalOf(metadata: JobHandlerMetadata): number | undefined {
    if (!metadata.everyMs) return undefined;
    return metadata.sweep ? Math.min(metadata.everyMs, this.config.jobs.sweepIntervalSeconds * 1000) : metadata.everyMs;
  }

  /** Adds a job. Throws QueueUnavailableError if the queue cannot take it now. */
  async enqueue<N extends JobName>(name: N, data: JobData<N>, options: EnqueueOptions = {}): Promise<void> {
    if (!this.handlers.has(name)) throw new Error(`No handler is registered for job "${name}"`);
    if (options.rerunFinished && (options.jobId === undefined || options.delayMs)) throw new Error(`rerunFinished needs a jobId and no delay (job "${name}")`);
    await this.driver.add(name, data, {
      jobId: options.jobId,
      delayMs: options.delayMs ?? 0,
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoffMs: options.backoffMs ?? this.config.jobs.retryDelayMs,
      rerunFinished: options.rerunFinished ?? false,
    });
  }

  /**
   * Adds a job when the queue is reachable, and otherwise logs and returns false. For work whose need is
   * already recorded in the database, so that a sweep enqueues it later: the caller's request goes on.
   */
  async tryEnqueue<N extends JobName>(name: N, data: JobData<N>, options: EnqueueOptions = {}): Promise<boolean> {
    try {
      await this.enqueue(name, data, options);
      return true;
    } catch (err) {
      this.logger.warn(`Could not enqueue ${name} (${options.jobId ?? 'no id'}); a sweep will retry: ${err instanceof Error ? err.message : err}`);
      return false;
    }
  }

  stats(): Promise<QueueStats> {
    return this.driver.stats();
  }

  private async run(name: string, data: unknown, context: JobContext): Promise<void> {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`No handler is registered for job "${name}"`);
    const started = Date.now();
    try {
      await handler.instance.handle(data as never, context);
      this.logger.debug?.(`Job ${name} (${context.jobId}) done in ${Date.now() - started} ms`);
    } catch (err) {
      // Logged here and rethrown, so the driver retries with backoff; never swallowed.
      this.logger.error(`Job ${name} (${context.jobId}) attempt ${context.attempt} failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
      throw err;
    }
  }

  /** Refuses to start when two providers claim one job name. */
  private collectHandlers() {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const metadata = this.reflector.get<JobHandlerMetadata | undefined>(JOB_HANDLER, wrapper.metatype);
      if (!metadata) continue;
      const existing = this.handlers.get(metadata.name);
      if (existing && existing.instance !== wrapper.instance) {
        throw new Error(`Job "${metadata.name}" has two handlers: ${existing.instance.constructor.name} and ${wrapper.metatype.name}`);
      }
      if (typeof (wrapper.instance as JobHandler).handle !== 'function') throw new Error(`${wrapper.metatype.name} is a @JobHandler without a handle() method`);
      this.handlers.set(metadata.name, { metadata, instance: wrapper.instance as JobHandler });
    }
  }
}
