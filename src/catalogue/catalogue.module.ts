import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LessonActivityDirectoryModule } from '../common/lesson-activity';
import { UnitOfWork } from '../database/unit-of-work';
import { LiveModule } from '../live/live.module';
import { AuthoringPagesController } from './authoring/authoring.pages.controller';
import { AuthoringService } from './authoring/authoring.service';
import { CatalogueApiController } from './catalogue.api.controller';
import { CatalogueService } from './catalogue.service';
import { CourseImporter } from './course-importer';
import { CourseModule } from './entities/course-module.entity';
import { Course } from './entities/course.entity';
import { Lesson } from './entities/lesson.entity';
import { QuizOption, QuizQuestion } from './entities/quiz-question.entity';
import { Topic } from './entities/topic.entity';
import { LessonReader } from './lesson.reader';

@Module({
  imports: [TypeOrmModule.forFeature([Topic, Course, CourseModule, Lesson, QuizQuestion, QuizOption]), LessonActivityDirectoryModule, LiveModule],
  controllers: [CatalogueApiController, AuthoringPagesController],
  providers: [CatalogueService, CourseImporter, LessonReader, AuthoringService, UnitOfWork],
  exports: [CatalogueService, CourseImporter, LessonReader],
})
export class CatalogueModule {}
