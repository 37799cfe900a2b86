import { ApiProperty } from '@nestjs/swagger';
import { NOTIFICATION_KINDS, type NotificationKind } from '../entities';

/** The shapes the notifications endpoints answer with, for the OpenAPI document (in-app.api.controller.ts builds them). */

export class NotificationResponse {
  @ApiProperty({ example: 812 }) id!: number;
  @ApiProperty({ enum: NOTIFICATION_KINDS, example: 'discussion-reply' }) kind!: NotificationKind;
  @ApiProperty({ example: 'Ada Lovelace replied in “Hazard workshops for EPR modules”', description: 'One line, plain text' }) title!: string;
  @ApiProperty({ example: 'We ran ours with the supplier in the room…', description: 'The start of what was written, plain text' }) excerpt!: string;
  @ApiProperty({ example: '/discussions/threads/12?page=2#post-34', description: 'Where it leads: a path on this site' }) url!: string;
  @ApiProperty({ description: 'Whether the caller has read it' }) read!: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
}

export class NotificationListResponse {
  @ApiProperty({ type: [NotificationResponse], description: 'Newest first' }) items!: NotificationResponse[];
  @ApiProperty({ example: 3, description: 'The caller’s unread notifications, all pages' }) unreadCount!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 4, description: 'Pages of 20 (at least 1)' }) pages!: number;
  @ApiProperty({ example: 67, description: 'Notifications listed (with `unread=true`, the unread ones)' }) total!: number;
}

export class NotificationStateResponse {
  @ApiProperty({ type: NotificationResponse, description: 'The notification after the change' }) notification!: NotificationResponse;
  @ApiProperty({ example: 2, description: 'The caller’s unread notifications after the change' }) unreadCount!: number;
}

export class NotificationsReadAllResponse {
  @ApiProperty({ example: 3, description: 'How many were unread and are now read' }) marked!: number;
  @ApiProperty({ example: 0 }) unreadCount!: number;
}
