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
