import { SetMetadata } from '@nestjs/common';
import type { JobName } from './job-registry';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

export interface JobHandlerOptions {
  /** Run this job on a repeating schedule (data `{}`), from worker processes only. */
  everyMs?: number;
  /**
   * A sweep: it enqueues again what the database shows undone (with `rerunFinished`). It runs every `everyMs` or
   * every SWEEP_INTERVAL_SECONDS, whichever is shorter, so operators bound how long lost work can wait.
   */
  sweep?: boolean;
}

export interface JobHandlerMetadata extends JobHandlerOptions {
  name: JobName;
}

/** Marks a provider as the one handler of a job name. The class implements `JobHandler<name>`. */
export const JobHandler = (name: JobName, options: JobHandlerOptions = {}) => SetMetadata(JOB_HANDLER, { name, ...options } satisfies JobHandlerMetadata);
