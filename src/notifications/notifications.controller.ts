import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { CatalogueService } from '../catalogue/catalogue.service';
import { NotFound } from '../common/errors';
import { ApiProblems } from '../common/openapi';
import { MAIL_KINDS, NotificationsService } from './notifications.service';

class UnsubscribedResponse {
  @ApiProperty({ example: 'course-nudges', description: 'The kind of e-mail the link stopped' }) unsubscribed!: string;
}

const asList = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** E-mail preferences, and the signed unsubscribe links every non-transactional e-mail carries. */
@ApiTags('e-mail')
@Controller()
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly catalogue: CatalogueService,
  ) {}

  @ApiExcludeEndpoint()
  @Get('account/email-preferences')
  async preferencesPage(@SignedInUser() user: CurrentUser, @Query('saved') saved: string | undefined, @Res() reply: FastifyReply) {
    const [preferences, topics] = await Promise.all([this.notifications.preferencesOf(user.id), this.catalogue.listTopics()]);
    return reply.view('notifications/preferences', {
      pageTitle: 'E-mail preferences',
      preferences,
      saved: saved === '1',
      topics: topics.map((t) => ({ id: t.id, name: t.name, followed: preferences.topicIds.includes(t.id) })),
    });
  }

  @ApiExcludeEndpoint()
  @Post('account/email-preferences')
  async savePreferences(@SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const choices = asList(body?.emails);
    await this.notifications.savePreferences(user.id, {
      courseNudges: choices.includes('course-nudges'),
      weeklyDigest: choices.includes('weekly-digest'),
      managerDigest: choices.includes('manager-digest'),
      topicIds: asList(body?.topics).filter((id) => /^\d{1,9}$/.test(id)).map(Number),
    });
    return reply.redirect('/account/email-preferences?saved=1', 303);
  }

  /** The link in an e-mail: shows what it will stop and asks to confirm (a GET never changes anything). */
  @ApiExcludeEndpoint()
  @Public()
  @Get('unsubscribe')
  unsubscribePage(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const link = this.notifications.readUnsubscribeLink(query);
    if (!link) return this.badLink(reply);
    return reply.view('notifications/unsubscribe', { pageTitle: 'Unsubscribe', what: this.notifications.kindLabel(link.kind), query: new URLSearchParams(query as Record<string, string>).toString() });
  }

  @ApiExcludeEndpoint()
  @Public()
  @Post('unsubscribe')
  async unsubscribe(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const link = this.notifications.readUnsubscribeLink(query);
    if (!link) return this.badLink(reply);
    await this.notifications.unsubscribe(link.userId, link.kind);
    reply.status(200);
    return reply.view('notifications/unsubscribed', { pageTitle: 'Unsubscribed', what: this.notifications.kindLabel(link.kind) });
  }

  /** RFC 8058 one-click unsubscribe: mail clients POST here, without cookies, from the List-Unsubscribe header. */
  @Public()
  @Post('api/v1/unsubscribe')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unsubscribe', summary: 'One-click unsubscribe (RFC 8058) with the signed link from an e-mail' })
  @ApiQuery({ name: 'u', type: 'integer', description: 'The person (from the List-Unsubscribe link, like the others)' })
  @ApiQuery({ name: 'k', enum: MAIL_KINDS, description: 'The kind of e-mail to stop' })
  @ApiQuery({ name: 'x', type: 'integer', description: 'When the link expires (from the link)' })
  @ApiQuery({ name: 's', type: String, description: 'The link’s signature' })
  @ApiOkResponse({ type: UnsubscribedResponse })
  @ApiProblems({ 404: 'The link is not valid or has expired' })
  async oneClick(@Query() query: Record<string, unknown>) {
    const link = this.notifications.readUnsubscribeLink(query);
    if (!link) throw new NotFound('This unsubscribe link is not valid or has expired');
    await this.notifications.unsubscribe(link.userId, link.kind);
    return { unsubscribed: link.kind };
  }

  private badLink(reply: FastifyReply) {
    reply.status(400);
    return reply.view('notifications/bad-link', { pageTitle: 'This link does not work' });
  }
}
