import { Injectable } from '@nestjs/common';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { AccountsService } from './accounts.service';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'accounts.prune': Record<string, never>;
  }
}

/** Every six hours: expired password-reset links and API tokens are deleted (sessions go at each sign-in). */
@Injectable()
@JobHandler('accounts.prune', { everyMs: 6 * 3600_000 })
export class PruneAccountsJob implements Handler<'accounts.prune'> {
  constructor(private readonly accounts: AccountsService) {}

  async handle(): Promise<void> {
    await this.accounts.pruneExpired();
  }
}
