import { Body, Controller, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { HeartbeatDto, QuizAttemptDto, QuizAttemptResponse } from './learning.dto';
import { ProgressService } from './progress.service';

const lessonId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no lesson with that id') });

@ApiTags('progress')
@ApiBearerAuth()
@Controller('api/v1')
export class LessonsApiController {
  constructor(private readonly progress: ProgressService) {}

  @Post('lessons/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete a text or resource lesson (videos complete by watching, quizzes by passing)' })
  complete(@SignedInUser() user: CurrentUser, @Param('id', lessonId) id: number) {
    return this.progress.markComplete(user.id, id);
  }

  @Post('progress/heartbeat')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report seconds of a video watched; coverage is merged and the lesson completes at the set share of its length' })
  heartbeat(@SignedInUser() user: CurrentUser, @Body() input: HeartbeatDto) {
    return this.progress.heartbeat(user.id, input);
  }

  @Post('quizzes/:lessonId/attempts')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Submit answers to a quiz: graded on the server and kept; returns the score, pass and per-question feedback',
    description: 'Every question says whether it was answered rightly. The right options (`correctOptionIds`) come back only with a pass: after a failed attempt the field is absent, as is the explanation of each question answered wrongly.',
  })
  @ApiCreatedResponse({ type: QuizAttemptResponse })
  async attempt(@SignedInUser() user: CurrentUser, @Param('lessonId', lessonId) id: number, @Body() input: QuizAttemptDto): Promise<QuizAttemptResponse> {
    const result = await this.progress.submitQuiz(user.id, id, input.answers);
    return {
      attemptId: result.attemptId,
      score: result.scorePercent,
      scorePercent: result.scorePercent,
      passMark: result.passMark,
      passed: result.passed,
      questions: result.questions,
      lessonComplete: result.lessonComplete,
      courseComplete: result.courseComplete,
      progressPercent: result.progressPercent,
    };
  }
}
