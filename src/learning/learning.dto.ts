import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNumber, IsObject, Min } from 'class-validator';

export class EnrolDto {
  @ApiProperty({ example: 1 })
  @IsInt({ message: 'courseId must be a whole number' })
  @Min(1, { message: 'courseId must be a whole number' })
  courseId!: number;
}

export class HeartbeatDto {
  @ApiProperty({ example: 12, description: 'The video lesson being watched' })
  @IsInt({ message: 'lessonId must be a whole number' })
  @Min(1, { message: 'lessonId must be a whole number' })
  lessonId!: number;

  @ApiProperty({ example: 30, description: 'Second of the video where this stretch of watching began' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'from must be a number of seconds' })
  from!: number;

  @ApiProperty({ example: 40, description: 'Second where it ended; greater than from, at most 60 seconds later' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'to must be a number of seconds' })
  to!: number;
}

export class QuizAttemptDto {
  @ApiProperty({
    example: { '41': [160], '42': [163, 165] },
    description: 'For every question of the quiz, the ids of the options chosen (one for a single-choice question)',
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'integer' } },
  })
  @IsObject({ message: 'answers must be an object of question ids to lists of option ids' })
  answers!: Record<string, number[]>;
}

export class QuestionFeedbackResponse {
  @ApiProperty({ example: 42 }) questionId!: number;
  @ApiProperty({ description: 'Whether exactly the right options were chosen' }) correct!: boolean;
  @ApiProperty({ type: [Number], example: [163] }) chosenOptionIds!: number[];
  @ApiProperty({
    type: [Number],
    required: false,
    example: [163, 165],
    description: 'The right options. Present only when the attempt passed; absent (not null) after a failed attempt, so that trying again is not copying',
  })
  correctOptionIds?: number[];
  @ApiProperty({
    required: false,
    description: 'The author’s explanation (Markdown). After a pass, present for every question; after a failed attempt, only for questions answered rightly (an explanation usually names the answer)',
  })
  explanation?: string;
}

export class QuizAttemptResponse {
  @ApiProperty({ example: 7 }) attemptId!: number;
  @ApiProperty({ example: 50, description: 'The same as scorePercent' }) score!: number;
  @ApiProperty({ example: 50 }) scorePercent!: number;
  @ApiProperty({ example: 70 }) passMark!: number;
  @ApiProperty() passed!: boolean;
  @ApiProperty({ type: [QuestionFeedbackResponse], description: 'Feedback per question, in the quiz’s order: which were right, and the right answers only after a pass' })
  questions!: QuestionFeedbackResponse[];
  @ApiProperty() lessonComplete!: boolean;
  @ApiProperty() courseComplete!: boolean;
  @ApiProperty({ example: 75 }) progressPercent!: number;
}
