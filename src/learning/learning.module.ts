import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { LearningApiController } from './learning.api.controller';
import { LearningPagesController } from './learning.pages.controller';
import { LearningService } from './learning.service';
import { Enrolment } from './entities/enrolment.entity';
import { LessonProgress } from './entities/lesson-progress.entity';
import { QuizAttempt } from './entities/quiz-attempt.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Enrolment, LessonProgress, QuizAttempt]), CatalogueModule],
  controllers: [LearningPagesController, LearningApiController],
  providers: [LearningService],
  exports: [LearningService],
})
export class LearningModule {}
