import type { Provider, Type } from '@nestjs/common';
import { InAppEmails } from './in-app-emails';
import { InAppNotifications } from './in-app-notifications';
import { InAppNotificationsApiController } from './in-app.api.controller';
import { DailyDigestJob, InstantEmailJob, InstantEmailSweepJob } from './in-app.jobs';
import { InAppNotificationsPagesController } from './in-app.pages.controller';
import { NotificationSettings } from './notification-settings';
import { InAppNotificationsPersonalData } from './personal-data';
import { UnreadCountHook } from './unread-count.hook';

/** In-app notifications: the list, read and unread, their e-mails (instant and the daily digest), the header's count. */
export const IN_APP_CONTROLLERS: Type[] = [InAppNotificationsPagesController, InAppNotificationsApiController];
export const IN_APP_PROVIDERS: Provider[] = [NotificationSettings, InAppNotifications, InAppEmails, InstantEmailJob, InstantEmailSweepJob, DailyDigestJob, InAppNotificationsPersonalData, UnreadCountHook];
/** What other modules call: `notify` (the discussions' fan-out), the unread count, the settings. */
export const IN_APP_EXPORTS: Type[] = [InAppNotifications];

export { InAppNotifications, type NotificationEntry } from './in-app-notifications';
