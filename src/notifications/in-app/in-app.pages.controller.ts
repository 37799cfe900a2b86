import { Body, Controller, Get, Param, ParseIntPipe, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { parseForm } from '../../common/forms';
import { londonDateTime } from '../../common/london-time';
import { InAppNotifications, NO_SUCH_NOTIFICATION } from './in-app-notifications';
import { NotificationFormDto, NotificationsPageQueryDto } from './in-app.dto';

const notificationId = new ParseIntPipe({ exceptionFactory: () => new NotFound(NO_SUCH_NOTIFICATION) });

const NOTICES: Record<string, string> = {
  read: 'Marked as read.',
  unread: 'Marked as unread.',
  'all-read': 'All your notifications are marked as read.',
};

const listHref = (page: number, notice?: string) => {
  const query = new URLSearchParams();
  if (page > 1) query.set('page', String(page));
  if (notice) query.set('notice', notice);
  const text = query.toString();
  return text ? `/notifications?${text}` : '/notifications';
};

/** Only a path of this site is followed: an address elsewhere (or `//host`) in a notification goes nowhere but the list. */
export const sameSitePath = (url: string) => (/^\/(?![/\\])/.test(url) ? url : '/notifications');

/**
 * The notifications page: newest first, 20 a page, unread ones marked; each opened through /notifications/{id}/open
 * (marked read on the way); read, unread and "mark all as read" as plain forms that come back to the same page.
 */
@ApiExcludeController()
@Controller('notifications')
export class InAppNotificationsPagesController {
  constructor(private readonly notifications: InAppNotifications) {}

  @Get()
  async list(@SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseForm(NotificationsPageQueryDto, raw);
    const result = await this.notifications.list(user.id, query.page ?? 1);
    const link = (page: number) => listHref(page);
    return reply.view('notifications/in-app/list', {
      pageTitle: result.pages > 1 ? `Notifications (page ${result.page} of ${result.pages})` : 'Notifications',
      notice: query.notice && Object.hasOwn(NOTICES, query.notice) ? NOTICES[query.notice] : undefined,
      result,
      // What the header says too, but here where the list starts, for those who come straight to it.
      unreadText: result.unreadCount === 0 ? 'You have no unread notifications.' : `You have ${result.unreadCount} unread ${result.unreadCount === 1 ? 'notification' : 'notifications'}.`,
      items: result.items.map((n) => ({ ...n, openHref: `/notifications/${n.id}/open`, when: londonDateTime(n.createdAt) })),
      previous: result.page > 1 ? { href: link(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: link(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    });
  }

  /** Follows a notification's link, marking it read: a GET, so that it works as a plain link, changing only the caller's own read mark. */
  @Get(':id/open')
  async open(@SignedInUser() user: CurrentUser, @Param('id', notificationId) id: number, @Res() reply: FastifyReply) {
    const notification = await this.notifications.markRead(user.id, id);
    return reply.redirect(sameSitePath(notification.url), 303);
  }

  @Post('read-all')
  async readAll(@SignedInUser() user: CurrentUser, @Body() body: unknown, @Res() reply: FastifyReply) {
    const form = await parseForm(NotificationFormDto, body);
    await this.notifications.markAllRead(user.id);
    return reply.redirect(listHref(form.page ?? 1, 'all-read'), 303);
  }

  @Post(':id/read')
  async read(@SignedInUser() user: CurrentUser, @Param('id', notificationId) id: number, @Body() body: unknown, @Res() reply: FastifyReply) {
    const form = await parseForm(NotificationFormDto, body);
    await this.notifications.markRead(user.id, id);
    return reply.redirect(`${listHref(form.page ?? 1, 'read')}#notification-${id}`, 303);
  }

  @Post(':id/unread')
  async unread(@SignedInUser() user: CurrentUser, @Param('id', notificationId) id: number, @Body() body: unknown, @Res() reply: FastifyReply) {
    const form = await parseForm(NotificationFormDto, body);
    await this.notifications.markUnread(user.id, id);
    return reply.redirect(`${listHref(form.page ?? 1, 'unread')}#notification-${id}`, 303);
  }
}
