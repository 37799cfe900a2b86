import { Clock } from '../common/clock';
import { Global, Injectable, Module } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { FileStorage } from './file-storage';
import { LocalFileStorage, localStorageRoot } from './local-file-storage';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'storage.sweep': Record<string, never>;
  }
}

/** Every six hours: partial files that a crash left behind for more than a day are removed. */
@Injectable()
@JobHandler('storage.sweep', { everyMs: 6 * 3600_000 })
export class StorageSweepJob implements Handler<'storage.sweep'> {
  constructor(
    private readonly storage: FileStorage,
    private readonly clock: Clock,
  ) {}

  async handle(): Promise<void> {
    await this.storage.removeAbandonedWrites(new Date(this.clock.now().getTime() - 24 * 3600_000));
  }
}

@Global()
@Module({
  providers: [{ provide: FileStorage, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new LocalFileStorage(localStorageRoot(config.dataDir)) }, StorageSweepJob],
  exports: [FileStorage],
})
export class StorageModule {}
