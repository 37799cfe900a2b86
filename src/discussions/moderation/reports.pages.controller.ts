import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { DomainError, NotFound } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { REPORT_REASONS } from '../entities';
import { REPORT_DETAILS_MAX, REPORT_REASON_LABELS, ReportFormDto } from './moderation.dto';
import { NO_SUCH_POST, type PostContext } from './post-context';
import { DiscussionReports } from './reports.service';

/** A path segment read as an id: digits only (anything else is no post, and answers 404). */
export function postIdOf(value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new NotFound(NO_SUCH_POST);
  return Number(value);
}

export const threadPath = (threadId: number) => `/discussions/threads/${threadId}`;

/** Reporting a post: the form (a reason, details) and its submission, then back to the thread with a banner. */
@ApiExcludeController()
@Controller('discussions/posts')
export class ReportsPagesController {
  constructor(private readonly reports: DiscussionReports) {}

  @Get(':postId/report')
  async form(@Param('postId') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const context = await this.reports.reportable(viewer, postIdOf(id));
    return reply.view('discussions/moderation/report', this.view(context, context.alreadyReported, {}));
  }

  @Post(':postId/report')
  async report(@Param('postId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const postId = postIdOf(id);
    try {
      const input = await parseForm(ReportFormDto, body);
      const { back } = await this.reports.report(viewer, postId, { reason: input.reason, details: input.details ?? '' });
      return reply.redirect(back, 303);
    } catch (err) {
      const values = { reason: typeof body?.reason === 'string' ? body.reason : '', details: typeof body?.details === 'string' ? body.details : '' };
      if (err instanceof DomainError && err.kind === 'conflict') {
        const context = await this.reports.reportable(viewer, postId);
        return reply.status(409).view('discussions/moderation/report', { ...this.view(context, true, values), pageTitle: 'Error: Report a post', errorList: [{ href: '#report-heading', text: err.message }] });
      }
      const errors = formErrors(err);
      const context = await this.reports.reportable(viewer, postId);
      return reply.status(400).view('discussions/moderation/report', { ...this.view(context, false, values), ...errorView(errors, ['reason', 'details']), pageTitle: 'Error: Report a post' });
    }
  }

  private view(context: PostContext, alreadyReported: boolean, values: { reason?: string; details?: string }) {
    const { post, thread } = context;
    return {
      pageTitle: 'Report a post',
      threadTitle: thread.title,
      threadHref: `${threadPath(thread.id)}#post-${post.id}`,
      isOpening: post.isOpening,
      bodyHtml: post.bodyHtml,
      alreadyReported,
      action: `/discussions/posts/${post.id}/report`,
      reasons: REPORT_REASONS.map((code, i) => ({ code, id: i === 0 ? 'reason' : `reason-${code}`, label: REPORT_REASON_LABELS[code], checked: values.reason === code })),
      details: values.details ?? '',
      detailsMax: REPORT_DETAILS_MAX.toLocaleString('en-GB'),
    };
  }
}
