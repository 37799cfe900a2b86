import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../jobs/job-registry';
import { MailService } from './mail.service';

@Injectable()
@JobHandler('mail.deliver')
export class MailDeliverJob implements Handler<'mail.deliver'> {
  constructor(private readonly mail: MailService) {}

  async handle({ messageId }: JobData<'mail.deliver'>): Promise<void> {
    await this.mail.deliver(messageId);
  }
}

@Injectable()
@JobHandler('mail.sweep', { everyMs: 60_000, sweep: true })
export class MailSweepJob implements Handler<'mail.sweep'> {
  constructor(private readonly mail: MailService) {}

  async handle(): Promise<void> {
    await this.mail.sweep();
  }
}
