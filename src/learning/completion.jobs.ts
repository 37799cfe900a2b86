import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { ProgressService } from './progress.service';

/**
 * Every five minutes: completions not yet recorded as handled (their job lost to a Redis outage or a crash)
 * are enqueued again. The certificates module consumes `course.completed` and records it once the
 * certificate exists, so this is also the sweep for completed enrolments without a certificate.
 */
@Injectable()
@JobHandler('course.completed.sweep', { everyMs: 5 * 60_000, sweep: true })
export class CourseCompletedSweepJob implements Handler<'course.completed.sweep'> {
  constructor(private readonly progress: ProgressService) {}

  async handle(): Promise<void> {
    await this.progress.sweepCompletions();
  }
}
