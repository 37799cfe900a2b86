import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { CertificateDirectoryModule } from '../common/certificate-directory';
import { LessonActivityDirectory, LessonActivityDirectoryModule } from '../common/lesson-activity';
import { UnitOfWork } from '../database/unit-of-work';
import { CourseCompletedSweepJob } from './completion.jobs';
import { PersonalDataModule } from '../common/personal-data';
import { RelatedExchangeModule } from '../common/related-exchange';
import { LearningPersonalData } from './personal-data';
import { LearningApiController } from './learning.api.controller';
import { LessonAccess } from './lesson-access';
import { LessonsApiController } from './lessons.api.controller';
import { LessonsPagesController } from './lessons.pages.controller';
import { ProgressService } from './progress.service';
import { LearningPagesController } from './learning.pages.controller';
import { LearningService } from './learning.service';
import { Enrolment } from './entities/enrolment.entity';
import { LessonProgress } from './entities/lesson-progress.entity';
import { QuizAttempt } from './entities/quiz-attempt.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Enrolment, LessonProgress, QuizAttempt]), CatalogueModule, CertificateDirectoryModule, LessonActivityDirectoryModule, PersonalDataModule, RelatedExchangeModule],
  controllers: [LearningPagesController, LessonsPagesController, LearningApiController, LessonsApiController],
  providers: [LearningService, ProgressService, LessonAccess, UnitOfWork, CourseCompletedSweepJob, LearningPersonalData],
  exports: [LearningService, ProgressService],
})
export class LearningModule implements OnModuleInit {
  constructor(
    private readonly progress: ProgressService,
    private readonly activity: LessonActivityDirectory,
  ) {}

  /** Authoring asks, before a deletion, how many learners have progress in the lessons concerned. */
  onModuleInit(): void {
    this.activity.use((lessonIds) => this.progress.activityIn(lessonIds));
  }
}
