import { ApiProperty } from '@nestjs/swagger';
import { COURSE_LEVELS, COURSE_STATUSES, type CourseLevel, type CourseStatus } from './entities/course.entity';
import { LESSON_KINDS, type LessonKind } from './entities/lesson.entity';

/** The shapes the catalogue API answers with, for the OpenAPI document. */

export class TopicRefResponse {
  @ApiProperty({ example: 'clinical-safety' }) slug!: string;
  @ApiProperty({ example: 'Clinical safety' }) name!: string;
}

export class CourseCardResponse {
  @ApiProperty({ example: 4 }) id!: number;
  @ApiProperty({ example: 'clinical-risk-in-practice' }) slug!: string;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
  @ApiProperty({ example: 'Hazards, controls and the hazard log.', description: 'Plain text' }) summary!: string;
  @ApiProperty({ enum: COURSE_LEVELS }) level!: CourseLevel;
  @ApiProperty({ example: 25 }) estimatedMinutes!: number;
  @ApiProperty({ example: 1.25, description: 'CPD hours a certificate of completion carries (two decimal places)' }) cpdHours!: number;
  @ApiProperty({ type: TopicRefResponse }) topic!: TopicRefResponse;
  @ApiProperty({ example: 120 }) enrolmentCount!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) publishedAt!: Date | null;
}

export class CataloguePageResponse {
  @ApiProperty({ type: [CourseCardResponse] }) items!: CourseCardResponse[];
  @ApiProperty({ example: 30, description: 'Courses matching, over all pages' }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 3 }) pages!: number;
  @ApiProperty({ example: 12 }) perPage!: number;
}

export class SyllabusLessonResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'What is a clinical hazard?' }) title!: string;
  @ApiProperty({ enum: LESSON_KINDS }) kind!: LessonKind;
  @ApiProperty({ example: 5 }) minutes!: number;
  @ApiProperty({ description: 'Whether it counts towards completing the course' }) required!: boolean;
  @ApiProperty({ type: Number, nullable: true, example: 73, description: 'Videos: the length in seconds; null for other kinds' }) durationSeconds!: number | null;
}

export class SyllabusModuleResponse {
  @ApiProperty({ example: 3 }) id!: number;
  @ApiProperty({ example: 'Hazards' }) title!: string;
  @ApiProperty({ type: [SyllabusLessonResponse] }) lessons!: SyllabusLessonResponse[];
}

export class CourseDetailResponse extends CourseCardResponse {
  @ApiProperty({ description: 'Markdown, as the author wrote it (see descriptionHtml)' }) description!: string;
  @ApiProperty({ description: 'The description as sanitised HTML (Markdown rendered; raw HTML removed)' }) descriptionHtml!: string;
  @ApiProperty({ description: 'Who the course is for: Markdown, as the author wrote it (see whoForHtml)' }) whoFor!: string;
  @ApiProperty({ description: 'Who the course is for, as sanitised HTML' }) whoForHtml!: string;
  @ApiProperty({ enum: COURSE_STATUSES, description: 'Anyone sees published courses; drafts and archived ones only their author and admins' }) status!: CourseStatus;
  @ApiProperty({ type: [SyllabusModuleResponse], description: 'Modules in order, each with its lessons in order' }) modules!: SyllabusModuleResponse[];
}
