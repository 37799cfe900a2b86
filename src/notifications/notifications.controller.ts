import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { CatalogueService } from '../catalogue/catalogue.service';
import { NotFound } from '../common/errors';
import { errorView } from '../common/forms';
import { ApiProblems } from '../common/openapi';
import { EMAIL_DELIVERIES, NOTIFICATION_KINDS, type EmailDelivery, type NotificationKind } from './entities';
import { InAppNotifications } from './in-app';
import { DELIVERY_LABELS, isEmailDelivery, NOTIFICATION_KIND_LABELS, type NotificationSettingsView } from './in-app/notification-settings';
import { MAIL_KINDS, NotificationsService } from './notifications.service';

class UnsubscribedResponse {
  @ApiProperty({ example: 'course-nudges', description: 'The kind of e-mail the link stopped' }) unsubscribed!: string;
}

const asList = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** The radios of each discussion notification kind: `notify-{kind}` = instant | daily | off. */
const deliveryField = (kind: NotificationKind) => `notify-${kind}`;
const deliveryFieldsets = (settings: NotificationSettingsView) =>
  NOTIFICATION_KINDS.map((kind) => ({
    kind,
    field: deliveryField(kind),
    ...NOTIFICATION_KIND_LABELS[kind],
    options: EMAIL_DELIVERIES.map((delivery) => ({ value: delivery, label: DELIVERY_LABELS[delivery], id: `${deliveryField(kind)}-${delivery}`, checked: settings[kind] === delivery })),
  }));

/** The discussion deliveries a submitted preferences form chose (kinds it does not carry stay as they are), or the fields it got wrong. */
function readDeliveries(body: Record<string, unknown>): { wanted: Partial<Record<NotificationKind, EmailDelivery>>; errors: Record<string, string> } {
  const wanted: Partial<Record<NotificationKind, EmailDelivery>> = {};
  const errors: Record<string, string> = {};
  for (const kind of NOTIFICATION_KINDS) {
    const value = body?.[deliveryField(kind)];
    if (value === undefined) continue;
    if (isEmailDelivery(value)) wanted[kind] = value;
    else errors[`${deliveryField(kind)}-instant`] = `Choose how to hear about ${NOTIFICATION_KIND_LABELS[kind].legend.toLowerCase()}: as it happens, in a daily digest or never`;
  }
  return { wanted, errors };
}

/** E-mail preferences, and the signed unsubscribe links every non-transactional e-mail carries. */
@ApiTags('e-mail')
@Controller()
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly catalogue: CatalogueService,
    private readonly inApp: InAppNotifications,
  ) {}

  @ApiExcludeEndpoint()
  @Get('account/email-preferences')
  async preferencesPage(@SignedInUser() user: CurrentUser, @Query('saved') saved: string | undefined, @Res() reply: FastifyReply) {
    return this.renderPreferences(user, reply, { saved: saved === '1' });
  }

  private async renderPreferences(user: CurrentUser, reply: FastifyReply, extra: { saved?: boolean; errors?: Record<string, string>; submitted?: Partial<NotificationSettingsView> }) {
    const [preferences, topics, settings] = await Promise.all([this.notifications.preferencesOf(user.id), this.catalogue.listTopics(), this.inApp.settingsOf(user.id)]);
    const errors = extra.errors ?? {};
    if (Object.keys(errors).length) reply.status(400);
    return reply.view('notifications/preferences', {
      pageTitle: Object.keys(errors).length ? 'Error: E-mail preferences' : 'E-mail preferences',
      preferences,
      saved: !!extra.saved,
      discussionDeliveries: deliveryFieldsets({ ...settings, ...extra.submitted }).map((fieldset) => ({ ...fieldset, error: errors[`${fieldset.field}-instant`] })),
      ...errorView(errors),
      topics: topics.map((t) => ({ id: t.id, name: t.name, followed: preferences.topicIds.includes(t.id) })),
    });
  }

  @ApiExcludeEndpoint()
  @Post('account/email-preferences')
  async savePreferences(@SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const deliveries = readDeliveries(body ?? {});
    // A refused choice saves nothing, so the page shows what is in force beside the message.
    if (Object.keys(deliveries.errors).length) return this.renderPreferences(user, reply, { errors: deliveries.errors, submitted: deliveries.wanted });
    await this.inApp.saveSettings(user.id, deliveries.wanted);
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
