import { Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { londonDate } from '../../common/london-time';
import { kindLabel } from './revision-content';
import { editPath, itemPath } from './moderation.service';
import { confirmPath, ReviewDates } from './review-dates';

/**
 * Review dates, for an item's author (or a manager of its organisation): the page the review e-mail links to, and
 * the confirmation that the published item is still right, which puts its review date DEFAULT_REVIEW_MONTHS on.
 */
@ApiExcludeController()
@Controller('exchange/:slug/confirm-current')
export class ReviewPagesController {
  constructor(
    private readonly reviews: ReviewDates,
    private readonly clock: Clock,
  ) {}

  @Get()
  async ask(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const item = await this.reviews.forConfirming(user, slug);
    const due = item.reviewDueAt !== null && item.reviewDueAt <= this.clock.now();
    return reply.view('exchange/moderation/confirm-current', {
      pageTitle: `Is ${item.title} still right?`,
      item: { title: item.title, kindLabel: kindLabel(item.kind).toLowerCase(), publishedOn: item.publishedAt ? londonDate(item.publishedAt) : null, reviewDueOn: item.reviewDueAt ? londonDate(item.reviewDueAt) : null },
      due,
      itemHref: itemPath(item.slug),
      editHref: editPath(item.slug),
      action: confirmPath(item.slug),
    });
  }

  @Post()
  async confirm(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const confirmed = await this.reviews.confirmCurrent(user, slug);
    return reply.redirect(`${itemPath(confirmed.slug)}?notice=review-confirmed`, 303);
  }
}
