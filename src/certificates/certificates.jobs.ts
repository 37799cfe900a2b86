import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../jobs/job-registry';
import { CertificatesService } from './certificates.service';

/**
 * A learner completed a course: its certificate is issued by this job itself (one job per enrolment), not by a
 * second job it would enqueue; a job fewer per certificate. Issuing is idempotent, so retries and the completions
 * sweep (which runs this job again while the completion is not recorded as handled) never issue twice.
 */
@Injectable()
@JobHandler('course.completed')
export class CourseCompletedJob implements Handler<'course.completed'> {
  constructor(private readonly certificates: CertificatesService) {}

  async handle({ enrolmentId }: JobData<'course.completed'>): Promise<void> {
    await this.certificates.issue('course', enrolmentId);
  }
}

@Injectable()
@JobHandler('certificates.issue')
export class IssueCertificateJob implements Handler<'certificates.issue'> {
  constructor(private readonly certificates: CertificatesService) {}

  async handle({ subjectType, referenceId }: JobData<'certificates.issue'>): Promise<void> {
    await this.certificates.issue(subjectType, referenceId);
  }
}
