import type { EntityManager } from 'typeorm';
import { CatalogueService, cpdHours } from '../catalogue/catalogue.service';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';
import type { CertificateFacts, CertificateSubject } from './certificate-subjects';

/** Courses as certificate subjects: the reference is a completed enrolment. */
export class CourseCertificateSubject implements CertificateSubject {
  readonly type = 'course' as const;

  constructor(
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly catalogue: CatalogueService,
  ) {}

  async facts(enrolmentId: number): Promise<CertificateFacts | null> {
    const completion = await this.learning.completion(enrolmentId);
    if (!completion) return null;
    return {
      userId: completion.userId,
      subjectType: 'course',
      subjectId: completion.course.id,
      subjectTitle: completion.course.title,
      cpdMinutes: completion.course.cpdMinutes,
      achievedAt: completion.completedAt,
    };
  }

  issued(enrolmentId: number, tx?: EntityManager): Promise<void> {
    return this.progress.recordCompletion(enrolmentId, tx);
  }

  async summary(courseId: number) {
    const course = await this.catalogue.courseFacts(courseId);
    if (!course) return null;
    return {
      title: course.title,
      description: `Completion of the course “${course.title}” (${cpdHours(course.cpdMinutes)} CPD hours).`,
      criteria: 'Complete every required lesson of the course and pass its required quizzes.',
      cpdMinutes: course.cpdMinutes,
      path: `/courses/${course.slug}`,
    };
  }
}
