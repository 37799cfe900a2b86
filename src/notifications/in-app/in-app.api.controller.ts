import { Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { ApiProblems } from '../../common/openapi';
import { InAppNotifications, NO_SUCH_NOTIFICATION, type NotificationView } from './in-app-notifications';
import { NotificationsApiQueryDto } from './in-app.dto';
import { NotificationListResponse, NotificationResponse, NotificationsReadAllResponse, NotificationStateResponse } from './in-app.responses';

const notificationId = new ParseIntPipe({ exceptionFactory: () => new NotFound(NO_SUCH_NOTIFICATION) });
const NOT_THE_CALLERS = 'No notification of the caller has that id (another person’s is not found either)';

const asResponse = (n: NotificationView): NotificationResponse => ({ id: n.id, kind: n.kind, title: n.title, excerpt: n.excerpt, url: n.url, read: n.read, createdAt: n.createdAt });

/** The caller's in-app notifications (replies, mentions, accepted answers, new threads), and reading them. */
@ApiTags('notifications')
@ApiBearerAuth()
@Controller('api/v1/notifications')
export class InAppNotificationsApiController {
  constructor(private readonly notifications: InAppNotifications) {}

  @Get()
  @ApiOperation({ operationId: 'listNotifications', summary: 'The caller’s notifications, newest first, 20 a page, with the unread count' })
  @ApiOkResponse({ type: NotificationListResponse })
  @ApiProblems({ 400: '`page` is not a whole number from 1 to 10,000, or `unread` is not true or false' })
  async list(@SignedInUser() user: CurrentUser, @Query() query: NotificationsApiQueryDto): Promise<NotificationListResponse> {
    const unreadOnly = query.unread === 'true';
    const page = await this.notifications.list(user.id, query.page ?? 1, { unreadOnly });
    return { items: page.items.map(asResponse), unreadCount: page.unreadCount, page: page.page, pages: page.pages, total: page.total };
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ operationId: 'markAllNotificationsRead', summary: 'Mark every unread notification of the caller read' })
  @ApiOkResponse({ type: NotificationsReadAllResponse })
  async readAll(@SignedInUser() user: CurrentUser): Promise<NotificationsReadAllResponse> {
    const marked = await this.notifications.markAllRead(user.id);
    return { marked, unreadCount: await this.notifications.unreadCount(user.id) };
  }

  @Post(':id/read')
  @HttpCode(200)
  @ApiOperation({ operationId: 'markNotificationRead', summary: 'Mark one of the caller’s notifications read (idempotent)' })
  @ApiOkResponse({ type: NotificationStateResponse })
  @ApiProblems({ 404: NOT_THE_CALLERS })
  async read(@SignedInUser() user: CurrentUser, @Param('id', notificationId) id: number): Promise<NotificationStateResponse> {
    const notification = await this.notifications.markRead(user.id, id);
    return { notification: asResponse(notification), unreadCount: await this.notifications.unreadCount(user.id) };
  }

  @Post(':id/unread')
  @HttpCode(200)
  @ApiOperation({ operationId: 'markNotificationUnread', summary: 'Mark one of the caller’s notifications unread again (idempotent)' })
  @ApiOkResponse({ type: NotificationStateResponse })
  @ApiProblems({ 404: NOT_THE_CALLERS })
  async unread(@SignedInUser() user: CurrentUser, @Param('id', notificationId) id: number): Promise<NotificationStateResponse> {
    const notification = await this.notifications.markUnread(user.id, id);
    return { notification: asResponse(notification), unreadCount: await this.notifications.unreadCount(user.id) };
  }
}
