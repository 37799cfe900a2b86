import type { EnqueueOptions, JobContext, QueueStats } from './job-registry';

export type RunJob = (name: string, data: unknown, context: JobContext) => Promise<void>;

/** What a queue engine must do. Both drivers honour the same semantics; test/e2e/jobs.e2e-spec.ts proves it on each. */
export interface QueueDriver {
  readonly kind: QueueStats['driver'];
  /** Adds a job; a job whose id is still kept (waiting, running or finished recently) is dropped as a duplicate. */
  add(name: string, data: unknown, options: Required<Omit<EnqueueOptions, 'jobId'>> & { jobId?: string }): Promise<void>;
  /** Upserts a repeating job; safe to call from every worker at every start. */
  repeat(scheduleId: string, name: string, everyMs: number): Promise<void>;
  /** Starts consuming jobs with `run`. */
  consume(run: RunJob, concurrency: number): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Stops taking jobs, lets running ones finish (up to timeoutMs), releases connections. */
  close(timeoutMs: number): Promise<void>;
}
