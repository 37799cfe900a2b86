import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../jobs/job-registry';
import { AttendanceService } from './attendance.service';
import { WebinarsService } from './webinars.service';

/** One reminder of one webinar to all its registrants (each message keyed, so a re-run sends nothing new). */
@Injectable()
@JobHandler('webinars.remind')
export class WebinarReminderJob implements Handler<'webinars.remind'> {
  constructor(private readonly webinars: WebinarsService) {}

  async handle({ webinarId, minutes, startsAt }: JobData<'webinars.remind'>): Promise<void> {
    await this.webinars.sendReminder(webinarId, minutes, startsAt);
  }
}

/**
 * Every 30 s: reminders that are due, in case their delayed job was lost (in-process jobs die with the
 * process; Redis may have been away). Sending is keyed per registration and reminder, so nothing goes twice.
 */
@Injectable()
@JobHandler('webinars.reminders.sweep', { everyMs: 30_000, sweep: true })
export class WebinarRemindersSweepJob implements Handler<'webinars.reminders.sweep'> {
  constructor(
    private readonly webinars: WebinarsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async handle(): Promise<void> {
    for (const { webinar, minutes } of await this.webinars.dueReminders(this.config.webinars.reminderMinutes)) {
      await this.webinars.sendReminder(webinar.id, minutes, webinar.startsAt.getTime());
    }
  }
}

/** Every 5 minutes: live attendance credit for ended webinars, and certificates whose job was lost. */
@Injectable()
@JobHandler('webinars.credit.sweep', { everyMs: 5 * 60_000, sweep: true })
export class WebinarCreditSweepJob implements Handler<'webinars.credit.sweep'> {
  constructor(private readonly attendance: AttendanceService) {}

  async handle(): Promise<void> {
    await this.attendance.sweepCredits();
  }
}
