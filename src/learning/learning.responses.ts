import { ApiProperty } from '@nestjs/swagger';
import { LESSON_KINDS, type LessonKind } from '../catalogue/entities/lesson.entity';
import type { EnrolmentStatus } from './entities/enrolment.entity';

/** The shapes the learning API answers with, for the OpenAPI document (the controllers build them). */

const ENROLMENT_STATUSES = ['active', 'completed', 'withdrawn'];
const dateTime = (description?: string) => ApiProperty({ type: String, format: 'date-time', description });
const nullableDateTime = (description?: string) => ApiProperty({ type: String, format: 'date-time', nullable: true, description });

export class EnrolmentResponse {
  @ApiProperty({ example: 31 }) id!: number;
  @ApiProperty({ example: 4 }) courseId!: number;
  @ApiProperty({ enum: ENROLMENT_STATUSES }) status!: EnrolmentStatus;
  @ApiProperty({ example: 0, minimum: 0, maximum: 100, description: 'Share of the required lessons done (of all lessons when none is required)' }) progressPercent!: number;
  @dateTime() enrolledAt!: Date;
}

export class EnrolmentSummaryResponse extends EnrolmentResponse {
  @ApiProperty({ example: 'clinical-risk-in-practice' }) courseSlug!: string;
  @ApiProperty({ example: 'Clinical risk in practice' }) courseTitle!: string;
  @dateTime() lastActivityAt!: Date;
  @nullableDateTime() completedAt!: Date | null;
}

export class LessonProgressResponse {
  @ApiProperty({ example: 12 }) lessonId!: number;
  @ApiProperty({ example: 3 }) moduleId!: number;
  @ApiProperty({ example: 'What is a clinical hazard?' }) title!: string;
  @ApiProperty({ enum: LESSON_KINDS }) kind!: LessonKind;
  @ApiProperty({ description: 'Whether the lesson counts towards completing the course' }) required!: boolean;
  @ApiProperty() complete!: boolean;
  @nullableDateTime() completedAt!: Date | null;
  @ApiProperty({ type: Number, nullable: true, example: 73, description: 'Videos: the length in seconds; null for other kinds' }) durationSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 41, description: 'Videos: seconds really watched (merged, replays counted once); null for other kinds' }) coveredSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 56, description: 'Videos: coveredSeconds as a percentage of the length; null for other kinds' }) coveredPercent!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 40, description: 'Videos: where to resume, in seconds; null for other kinds' }) resumeAtSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 2, description: 'Quizzes: attempts made; null for other kinds' }) attempts!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 50, description: 'Quizzes: the best score so far, in percent; null before the first attempt and for other kinds' }) bestScorePercent!: number | null;
}

export class EnrolmentDetailResponse extends EnrolmentSummaryResponse {
  @ApiProperty({ type: Number, nullable: true, example: 12, description: 'The lesson to do next: the first unfinished required one, else the first unfinished, else the first' }) nextLessonId!: number | null;
  @ApiProperty({ type: [LessonProgressResponse], description: 'Every lesson of the course in syllabus order, with this enrolment’s progress in it' }) lessons!: LessonProgressResponse[];
}

export class ProgressOutcomeResponse {
  @ApiProperty({ description: 'Whether the lesson is complete (now or before)' }) lessonComplete!: boolean;
  @ApiProperty({ description: 'Whether the course is complete' }) courseComplete!: boolean;
  @ApiProperty({ example: 60, minimum: 0, maximum: 100 }) progressPercent!: number;
}

export class HeartbeatResponse extends ProgressOutcomeResponse {
  @ApiProperty({ example: 41, description: 'Seconds of the video really watched so far' }) coveredSeconds!: number;
  @ApiProperty({ example: 73 }) durationSeconds!: number;
  @ApiProperty({ example: 56 }) coveredPercent!: number;
}

export class LessonCourseRef {
  @ApiProperty({ example: 4 }) id!: number;
  @ApiProperty({ example: 'clinical-risk-in-practice' }) slug!: string;
  @ApiProperty({ example: 'Clinical risk in practice' }) title!: string;
}

export class LessonModuleRef {
  @ApiProperty({ example: 3 }) id!: number;
  @ApiProperty({ example: 'Hazards' }) title!: string;
}

export class LessonVideoResponse {
  @ApiProperty({ format: 'uri', example: 'https://academy.example.org/courses/clinical-risk-in-practice/lessons/12/video', description: 'The video, with Range support; fetch it with the same bearer token' })
  url!: string;
  @ApiProperty({ example: 'video/mp4' }) contentType!: string;
  @ApiProperty({ type: Number, nullable: true, example: 73, description: 'The length in seconds' }) durationSeconds!: number | null;
  @ApiProperty({ type: String, format: 'uri', nullable: true, example: 'https://academy.example.org/courses/clinical-risk-in-practice/lessons/12/captions.vtt', description: 'WebVTT captions; null when the video has none' })
  captionsUrl!: string | null;
  @ApiProperty({ format: 'uri', example: 'https://academy.example.org/api/v1/progress/heartbeat', description: 'Where to POST what was watched ({ lessonId, from, to }); the lesson completes once enough is really watched' })
  heartbeatUrl!: string;
  @ApiProperty({ example: 40, description: 'Where to resume, in seconds' }) resumeAtSeconds!: number;
  @ApiProperty({ example: 41, description: 'Seconds really watched so far' }) coveredSeconds!: number;
  @ApiProperty({ example: 56 }) coveredPercent!: number;
}

export class LessonResourceResponse {
  @ApiProperty({ format: 'uri', example: 'https://academy.example.org/courses/clinical-risk-in-practice/lessons/14/download', description: 'The file; fetch it with the same bearer token. Downloading it completes the lesson' })
  downloadUrl!: string;
  @ApiProperty({ example: 'Hazard log – template.csv', description: 'The name it downloads as' }) fileName!: string;
  @ApiProperty({ example: 'text/csv' }) contentType!: string;
}

export class QuizOptionView {
  @ApiProperty({ example: 160 }) id!: number;
  @ApiProperty({ example: 'A potential source of harm', description: 'Plain text' }) text!: string;
}

export class QuizQuestionView {
  @ApiProperty({ example: 41 }) id!: number;
  @ApiProperty({ example: 'What is a clinical hazard?', description: 'Plain text' }) prompt!: string;
  @ApiProperty({ description: 'True when more than one option may be right: choose every right one' }) multiple!: boolean;
  @ApiProperty({ type: [QuizOptionView], description: 'In order; which are right is not said (see the attempts endpoint)' }) options!: QuizOptionView[];
}

export class QuizAttemptSummary {
  @ApiProperty({ example: 7 }) id!: number;
  @dateTime() at!: Date;
  @ApiProperty({ example: 50 }) scorePercent!: number;
  @ApiProperty() passed!: boolean;
}

export class LessonQuizResponse {
  @ApiProperty({ example: 80, description: 'Percent of questions to answer rightly to pass' }) passMark!: number;
  @ApiProperty({ type: [QuizQuestionView] }) questions!: QuizQuestionView[];
  @ApiProperty({ format: 'uri', example: 'https://academy.example.org/api/v1/quizzes/13/attempts', description: 'Where to POST answers ({ answers: { questionId: [optionId, …] } }) to be graded' })
  attemptsUrl!: string;
  @ApiProperty({ type: [QuizAttemptSummary], description: 'The caller’s attempts, newest first (at most 20); empty when previewing' }) attempts!: QuizAttemptSummary[];
  @ApiProperty({ description: 'Whether any attempt passed' }) passed!: boolean;
}

export class LessonStateResponse {
  @ApiProperty() complete!: boolean;
  @nullableDateTime() completedAt!: Date | null;
}

export class LessonResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'What is a clinical hazard?' }) title!: string;
  @ApiProperty({ enum: LESSON_KINDS }) kind!: LessonKind;
  @ApiProperty({ example: 5, description: 'About how long it takes' }) minutes!: number;
  @ApiProperty({ description: 'Whether it counts towards completing the course' }) required!: boolean;
  @ApiProperty({ type: LessonCourseRef }) course!: LessonCourseRef;
  @ApiProperty({ type: LessonModuleRef }) module!: LessonModuleRef;
  @ApiProperty({
    example: '<h2>Hazards</h2>\n<p>A hazard is a potential source of harm.</p>\n',
    description:
      'The lesson’s text (a text lesson) or introduction (the other kinds), written in Markdown by its author and given as sanitised HTML: raw HTML in the source is not rendered, and only h2–h5, p, lists, strong, em, links (http, https and mailto), code, pre, blockquote, tables, hr and br are kept.',
  })
  bodyHtml!: string;
  @ApiProperty({ type: Number, nullable: true, example: 73, description: 'Videos: the length in seconds; null for other kinds' }) durationSeconds!: number | null;
  @ApiProperty({ type: LessonVideoResponse, nullable: true, description: 'Videos only; null for other kinds' }) video!: LessonVideoResponse | null;
  @ApiProperty({ type: LessonResourceResponse, nullable: true, description: 'Resources only; null for other kinds' }) resource!: LessonResourceResponse | null;
  @ApiProperty({ type: LessonQuizResponse, nullable: true, description: 'Quizzes only, without the answers; null for other kinds' }) quiz!: LessonQuizResponse | null;
  @ApiProperty({ type: LessonStateResponse, nullable: true, description: 'The caller’s progress in this lesson; null when previewing (an author or admin, not enrolled)' }) progress!: LessonStateResponse | null;
  @ApiProperty({ description: 'True when the caller previews the course (its author or an admin) rather than taking it: nothing is recorded' }) preview!: boolean;
  @ApiProperty({ type: Number, nullable: true, example: 11, description: 'The lesson before this one in the syllabus' }) previousLessonId!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 13, description: 'The lesson after this one in the syllabus' }) nextLessonId!: number | null;
  @ApiProperty({ format: 'uri', example: 'https://academy.example.org/courses/clinical-risk-in-practice/lessons/12', description: 'The lesson’s page on the site' }) pageUrl!: string;
}
