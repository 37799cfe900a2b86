import type { EnqueueOptions, JobContext, QueueStats } from './job-registry';

export type RunJob = (name: string, data: unknown, context: JobContext) => Promise<void>;

/** What a queue engine must do. Both drivers honour the same semantics; test/e2e/jobs.e2e-spec.ts proves it on each. */
export interface QueueDriver {
  readonly kind: QueueStats['driver'];
  /**
   * Adds a job; a job whose id is still kept (waiting, running or finished recently) is dropped as a duplicate,
   * except that with `rerunFinished` a finished one (completed or failed) runs again from its first attempt.
   */
  add(name: string, data: unknown, options: Required<Omit<EnqueueOptions, 'jobId'>> & { jobId?: string }): Promise<void>;
  /**
   * Makes sure a repeating job exists with this interval: creates it if it is missing (on BullMQ it then runs at once),
   * updates it if its interval differs, repairs it if its next run is lost; a healthy schedule is left exactly
   * as it is (no run added, moved or skipped). Safe to call from every worker, at start and every minute.
   */
  repeat(scheduleId: string, name: string, everyMs: number): Promise<void>;
  /** Starts consuming jobs with `run`. */
  consume(run: RunJob, concurrency: number): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Stops taking jobs, lets running ones finish (up to timeoutMs), releases connections. */
  close(timeoutMs: number): Promise<void>;
}
