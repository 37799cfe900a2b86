import { Injectable } from '@nestjs/common';
import { JobHandler } from '../../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../../jobs/job-registry';
import { InAppEmails } from './in-app-emails';

/** The instant e-mails of a batch of notifications: each claimed once and sent once, however often the job runs. */
@Injectable()
@JobHandler('notifications.email')
export class InstantEmailJob implements Handler<'notifications.email'> {
  constructor(private readonly emails: InAppEmails) {}

  async handle({ ids }: JobData<'notifications.email'>): Promise<void> {
    await this.emails.sendInstant(ids);
  }
}

@Injectable()
@JobHandler('notifications.email-sweep', { everyMs: 60_000, sweep: true })
export class InstantEmailSweepJob implements Handler<'notifications.email-sweep'> {
  constructor(private readonly emails: InAppEmails) {}

  async handle(): Promise<void> {
    await this.emails.sweep();
  }
}

/** Hourly: the first run at or after 07:00 London time sends the day's digests; later runs find them sent. */
@Injectable()
@JobHandler('notifications.daily-digest', { everyMs: 60 * 60_000 })
export class DailyDigestJob implements Handler<'notifications.daily-digest'> {
  constructor(private readonly emails: InAppEmails) {}

  async handle(): Promise<void> {
    await this.emails.sendDigests();
  }
}
