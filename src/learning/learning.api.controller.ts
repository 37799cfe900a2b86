import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import { EnrolDto } from './learning.dto';
import { LearningService } from './learning.service';

@ApiTags('enrolments')
@ApiBearerAuth()
@Controller('api/v1/enrolments')
export class LearningApiController {
  constructor(private readonly learning: LearningService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Enrol the caller on a published course; enrolling again returns the same enrolment (200)' })
  async enrol(@SignedInUser() user: CurrentUser, @Body() input: EnrolDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { enrolment, created } = await this.learning.enrol(user.id, input.courseId);
    if (!created) reply.status(200);
    return { id: enrolment.id, courseId: enrolment.courseId, status: enrolment.status, progressPercent: enrolment.progressPercent, enrolledAt: enrolment.enrolledAt };
  }

  @Get()
  @ApiOperation({ summary: "The caller's enrolments with progress percent and status" })
  async list(@SignedInUser() user: CurrentUser) {
    return (await this.learning.listFor(user.id)).map((e) => ({
      id: e.id,
      courseId: e.courseId,
      courseSlug: e.course.slug,
      courseTitle: e.course.title,
      status: e.status,
      progressPercent: e.progressPercent,
      enrolledAt: e.enrolledAt,
      lastActivityAt: e.lastActivityAt,
      completedAt: e.completedAt,
    }));
  }
}
