import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageNumber } from '../../common/form-fields';

/** GET /notifications: the page, and the notice of what a form just did. */
export class NotificationsPageQueryDto {
  @PageNumber()
  page?: number;

  @IsOptional()
  @IsString()
  notice?: string;
}

/** The forms of the list carry the page they were on, to go back to it. */
export class NotificationFormDto {
  @PageNumber()
  page?: number;
}

/** GET /api/v1/notifications. */
export class NotificationsApiQueryDto {
  @PageNumber()
  page?: number;

  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: '`true`: only the unread ones' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'unread must be true or false' })
  unread?: 'true' | 'false';
}
