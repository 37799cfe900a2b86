import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../jobs/job-registry';
import { ProgressService } from './progress.service';

/** A learner completed a course. Idempotent: a second run for the same enrolment changes nothing. */
@Injectable()
@JobHandler('course.completed')
export class CourseCompletedJob implements Handler<'course.completed'> {
  constructor(private readonly progress: ProgressService) {}

  async handle({ enrolmentId }: JobData<'course.completed'>): Promise<void> {
    await this.progress.recordCompletion(enrolmentId);
  }
}

/** Every five minutes: completions whose job was lost are enqueued again (the database is the truth). */
@Injectable()
@JobHandler('course.completed.sweep', { everyMs: 5 * 60_000 })
export class CourseCompletedSweepJob implements Handler<'course.completed.sweep'> {
  constructor(private readonly progress: ProgressService) {}

  async handle(): Promise<void> {
    await this.progress.sweepCompletions();
  }
}
