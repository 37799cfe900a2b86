import { Controller, Get, Param, ParseIntPipe, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import type { SpaceAccessView } from '../core/discussion-access';
import { DiscussionEntry } from './discussion-entry';

const lessonId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no lesson at this address') });

/** Where a discussion's space page lives: the one address every entry sends its reader to. */
export const spaceHref = (spaceId: number) => `/discussions/spaces/${spaceId}`;

/**
 * The discussion of a course, a lesson, a webinar or an exchange item, at an address under the subject's own:
 * 303 to its space page for those who may read it, the usual not-found page for everyone else.
 */
@ApiExcludeController()
@Controller()
export class DiscussionEntryPagesController {
  constructor(private readonly entry: DiscussionEntry) {}

  @Get('courses/:slug/discussion')
  async course(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Res() reply: FastifyReply) {
    return this.enter(reply, await this.entry.ofCourse(user, slug));
  }

  @Get('courses/:slug/lessons/:lessonId/discussion')
  async lesson(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Param('lessonId', lessonId) id: number, @Res() reply: FastifyReply) {
    return this.enter(reply, await this.entry.ofLesson(user, slug, id));
  }

  @Get('webinars/:slug/discussion')
  async webinar(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Res() reply: FastifyReply) {
    return this.enter(reply, await this.entry.ofWebinar(user, slug));
  }

  @Get('exchange/:slug/discussion')
  async exchangeItem(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Res() reply: FastifyReply) {
    return this.enter(reply, await this.entry.ofExchangeItem(user, slug));
  }

  private enter(reply: FastifyReply, access: SpaceAccessView) {
    return reply.redirect(spaceHref(access.space.id), 303);
  }
}
