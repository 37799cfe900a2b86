import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { IdentityResolver } from '../accounts/identity.resolver';
import { Clock } from '../common/clock';
import { TooManyRequests } from '../common/errors';
import { errorView, formErrors, parseForm } from '../common/forms';
import { londonIsoDate } from '../common/london-time';
import { DeleteAccountDto } from './privacy.dto';
import { DOWNLOADS_PER_HOUR, PrivacyService } from './privacy.service';

const DELETE_FIELDS = ['certificates', 'password'];

/** "Download my data" and "Delete my account", reached from "Your account". */
@ApiExcludeController()
@Controller('account')
export class PrivacyPagesController {
  constructor(
    private readonly privacy: PrivacyService,
    private readonly identity: IdentityResolver,
    private readonly clock: Clock,
  ) {}

  @Get('data')
  dataPage(@Res() reply: FastifyReply) {
    return reply.view('privacy/data', this.dataView());
  }

  /** The download itself: a POST (with the form's CSRF token), so no other site can start one. */
  @Post('data')
  @HttpCode(200)
  async download(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    let document;
    try {
      document = await this.privacy.download(user);
    } catch (err) {
      if (!(err instanceof TooManyRequests)) throw err;
      const message = `You can download your data ${DOWNLOADS_PER_HOUR} times an hour. Try again in ${Math.ceil(err.retryAfterSeconds / 60)} minute(s).`;
      return reply
        .status(429)
        .header('retry-after', String(err.retryAfterSeconds))
        .view('privacy/data', { ...this.dataView(), pageTitle: 'Error: Download your data', errorList: [{ href: '#download', text: message }] });
    }
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="peer-academy-data-${londonIsoDate(this.clock.now())}.json"`)
      .header('cache-control', 'no-store')
      .send(document);
  }

  @Get('delete')
  async deletePage(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    return reply.view('privacy/delete', await this.deleteView(user, { values: {} }));
  }

  @Post('delete')
  async delete(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(DeleteAccountDto, body);
      await this.privacy.deleteAccount(user, input.password, input.certificates);
    } catch (err) {
      const view = await this.deleteView(user, { pageTitle: 'Error: Delete your account', values: { certificates: body?.certificates }, ...errorView(formErrors(err), DELETE_FIELDS) });
      return reply.status(400).view('privacy/delete', view);
    }
    // Signed out here too (the session is gone already); the browser forgets the account it signed in to.
    this.identity.clearSession(reply, request);
    reply.clearCookie(this.identity.deviceCookie, this.identity.cookieOptions());
    return reply.redirect('/account/deleted', 303);
  }

  @Public()
  @Get('deleted')
  deletedPage(@Res() reply: FastifyReply) {
    return reply.view('privacy/deleted', { pageTitle: 'Your account has been deleted' });
  }

  private dataView() {
    return {
      pageTitle: 'Download your data',
      sections: this.privacy.sections().map((s) => ({ name: s.name, description: s.description })),
      perHour: DOWNLOADS_PER_HOUR,
    };
  }

  private async deleteView(user: CurrentUser, extra: Record<string, unknown>) {
    return { pageTitle: 'Delete your account', refusal: await this.privacy.refusalFor(user), ...extra };
  }
}
