import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../jobs/job-registry';
import { CertificatesService } from './certificates.service';

/** A learner completed a course: ask for its certificate (one job per enrolment). */
@Injectable()
@JobHandler('course.completed')
export class CourseCompletedJob implements Handler<'course.completed'> {
  constructor(private readonly certificates: CertificatesService) {}

  async handle({ enrolmentId }: JobData<'course.completed'>): Promise<void> {
    if (!(await this.certificates.requestIssue('course', enrolmentId))) throw new Error('The certificates queue is unavailable; retrying');
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
