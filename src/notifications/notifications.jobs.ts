import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { NotificationsService } from './notifications.service';

/** Hourly: reminders for courses gone quiet. Safe to run as often as wanted (each reminder is keyed). */
@Injectable()
@JobHandler('notifications.nudges', { everyMs: 60 * 60_000 })
export class CourseNudgesJob implements Handler<'notifications.nudges'> {
  constructor(private readonly notifications: NotificationsService) {}

  async handle(): Promise<void> {
    await this.notifications.sendNudges();
  }
}

/** Hourly: the first run of each week sends that week's digests; later runs find them sent. */
@Injectable()
@JobHandler('notifications.digest', { everyMs: 60 * 60_000 })
export class WeeklyDigestJob implements Handler<'notifications.digest'> {
  constructor(private readonly notifications: NotificationsService) {}

  async handle(): Promise<void> {
    await this.notifications.sendDigests();
  }
}
