/**
 * The typed job registry. Each feature module adds its jobs by declaration merging:
 *
 *   declare module '../jobs/job-registry' {
 *     interface JobRegistry { 'mail.deliver': { messageId: number } }
 *   }
 *
 * so `jobs.enqueue('mail.deliver', { messageId })` is checked by the compiler.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface JobRegistry {}

export type JobName = keyof JobRegistry & string;
export type JobData<N extends JobName> = JobRegistry[N];

export interface EnqueueOptions {
  /** Deterministic id: while a job with this id is kept, enqueueing it again is a no-op (but see `rerunFinished`). */
  jobId?: string;
  delayMs?: number;
  /** Total tries, the first included. Default 5. */
  attempts?: number;
  /** First retry delay; doubles on each further retry. Default JOBS_RETRY_DELAY_MS (2 s). */
  backoffMs?: number;
  /**
   * For sweeps, which enqueue what the database shows undone: if the queue still keeps a finished job with this
   * id (completed, or failed after its last attempt), it runs again, from its first attempt, with the data it was
   * first given (one id means one piece of work). A job that is waiting, delayed or running is left alone, as
   * without this option. Needs `jobId`; cannot be combined with `delayMs`.
   */
  rerunFinished?: boolean;
}

export interface JobContext {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
}

export interface JobHandler<N extends JobName = JobName> {
  handle(data: JobData<N>, context: JobContext): Promise<void>;
}

export interface QueueStats {
  driver: 'bullmq' | 'in-process';
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export const DEFAULT_ATTEMPTS = 5;
/** How long finished jobs are kept, which is also how long their ids deduplicate. */
export const KEEP_COMPLETED = { ageSeconds: 24 * 3600, count: 10_000 };
export const KEEP_FAILED = { ageSeconds: 7 * 24 * 3600, count: 10_000 };

/** Thrown when the queue cannot take a job now (Redis down). The database still holds the truth; a sweep re-enqueues. */
export class QueueUnavailableError extends Error {}

export const backoffDelay = (baseMs: number, attempt: number) => baseMs * 2 ** (attempt - 1);
