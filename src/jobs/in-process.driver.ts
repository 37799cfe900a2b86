/* eslint-disable no-restricted-syntax -- queue mechanics (delays, retention, timing logs) run on real time, as BullMQ's do */
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { backoffDelay, KEEP_COMPLETED, KEEP_FAILED, QueueStats } from './job-registry';
import type { QueueDriver, RunJob } from './queue-driver';

type State = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

interface Job {
  id: string;
  name: string;
  data: unknown;
  attempts: number;
  backoffMs: number;
  attemptsMade: number;
  state: State;
  finishedAt?: number;
  timer?: NodeJS.Timeout;
}

/**
 * The embedded job runner: same handlers, same dedupe-by-id, delay, retry-with-backoff and retention as BullMQ,
 * kept in this process. Jobs not yet run are lost with the process; that is acceptable because every job's
 * purpose is also recorded in the database and a sweep re-enqueues what is missing.
 */
export class InProcessDriver implements QueueDriver {
  readonly kind = 'in-process' as const;
  private readonly logger = new Logger('Jobs');
  private readonly jobs = new Map<string, Job>();
  private readonly ready: Job[] = [];
  private readonly schedules = new Map<string, { timer: NodeJS.Timeout; everyMs: number }>();
  private run: RunJob | null = null;
  private concurrency = 1;
  private active = 0;
  private closing = false;
  private lastPrune = 0;
  private idleWaiters: Array<() => void> = [];
  /** Waiting for the running jobs alone to finish (close), whatever is still queued. */
  private settledWaiters: Array<() => void> = [];

  async add(name: string, data: unknown, options: { jobId?: string; delayMs: number; attempts: number; backoffMs: number; rerunFinished: boolean }): Promise<void> {
    if (this.closing) return;
    const id = options.jobId ?? randomUUID();
    this.prune();
    const kept = this.jobs.get(id);
    // A finished job asked for again (a sweep found its work undone) is replaced by a fresh one; any other is kept.
    if (kept && !(options.rerunFinished && (kept.state === 'completed' || kept.state === 'failed'))) return;
    const job: Job = { id, name, data, attempts: options.attempts, backoffMs: options.backoffMs, attemptsMade: 0, state: 'waiting' };
    this.jobs.set(id, job);
    if (options.delayMs > 0) this.delay(job, options.delayMs);
    else this.makeReady(job);
  }

  async repeat(scheduleId: string, name: string, everyMs: number): Promise<void> {
    const current = this.schedules.get(scheduleId);
    if (this.closing || current?.everyMs === everyMs) return; // healthy: left alone, so its next run is not put off
    clearInterval(current?.timer);
    const timer = setInterval(() => void this.add(name, {}, { jobId: `${scheduleId}@${Date.now()}`, delayMs: 0, attempts: 1, backoffMs: 0, rerunFinished: false }), everyMs);
    timer.unref();
    this.schedules.set(scheduleId, { timer, everyMs });
  }

  async consume(run: RunJob, concurrency: number): Promise<void> {
    this.run = run;
    this.concurrency = concurrency;
    this.pump();
  }

  async stats(): Promise<QueueStats> {
    const count = (state: State) => [...this.jobs.values()].filter((j) => j.state === state).length;
    return { driver: this.kind, waiting: count('waiting'), active: count('active'), delayed: count('delayed'), failed: count('failed'), completed: count('completed') };
  }

  /** Stops taking jobs and waits for the running ones (up to timeoutMs); queued jobs are not run (a sweep finds their work). */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const { timer } of this.schedules.values()) clearInterval(timer);
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    if (this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.settledWaiters.push(resolve)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Resolves when nothing is waiting or running (delayed jobs aside); for tests and demo seeding. */
  async drain(): Promise<void> {
    while (this.active > 0 || this.ready.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private delay(job: Job, ms: number) {
    job.state = 'delayed';
    job.timer = setTimeout(() => this.makeReady(job), ms);
    job.timer.unref();
  }

  private makeReady(job: Job) {
    if (this.closing) return;
    job.state = 'waiting';
    this.ready.push(job);
    this.pump();
  }

  private pump() {
    while (this.run && !this.closing && this.active < this.concurrency && this.ready.length > 0) {
      void this.execute(this.ready.shift()!);
    }
    if (this.active === 0) this.notifySettled();
    if (this.active === 0 && this.ready.length === 0) this.notifyIdle();
  }

  private async execute(job: Job) {
    this.active++;
    job.state = 'active';
    job.attemptsMade++;
    try {
      await this.run!(job.name, job.data, { jobId: job.id, attempt: job.attemptsMade });
      this.finish(job, 'completed');
    } catch {
      // The job runner has logged the error; here we only decide between a retry and giving up.
      if (job.attemptsMade < job.attempts && !this.closing) this.delay(job, backoffDelay(job.backoffMs, job.attemptsMade));
      else {
        this.finish(job, 'failed');
        this.logger.error(`Job ${job.name} (${job.id}) failed after ${job.attemptsMade} attempt(s); kept as failed`);
      }
    } finally {
      this.active--;
      this.pump();
    }
  }

  private finish(job: Job, state: 'completed' | 'failed') {
    job.state = state;
    job.finishedAt = Date.now();
    job.data = undefined;
  }

  private notifySettled() {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private notifyIdle() {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Finished jobs are kept for a bounded age and count, like BullMQ's removeOnComplete/removeOnFail. */
  private prune() {
    const now = Date.now();
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [state, keep] of [['completed', KEEP_COMPLETED], ['failed', KEEP_FAILED]] as const) {
      const finished = [...this.jobs.values()].filter((j) => j.state === state);
      const excess = finished.length - keep.count;
      finished.forEach((job, index) => {
        if (index < excess || now - job.finishedAt! > keep.ageSeconds * 1000) this.jobs.delete(job.id);
      });
    }
  }
}
