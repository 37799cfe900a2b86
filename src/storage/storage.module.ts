import { Clock } from '../common/clock';
import { Global, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { FileStorage } from './file-storage';
import { LocalFileStorage, localStorageRoot } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

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

/** The driver STORAGE_URL chooses: an S3 bucket when set, else the local disk (DATA_DIR/files). */
export function createFileStorage(config: AppConfig): FileStorage {
  return config.objectStorage ? new S3FileStorage(config.objectStorage) : new LocalFileStorage(localStorageRoot(config.dataDir));
}

/**
 * Before the process takes requests or jobs, the bucket must answer: a wrong bucket, endpoint or credentials stop
 * the start with one line (a ConfigError, printed by main.ts) rather than failing every upload later.
 */
@Injectable()
export class StorageStartCheck implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly storage: FileStorage) {}

  async onModuleInit(): Promise<void> {
    if (this.storage instanceof S3FileStorage) await this.storage.checkBucket();
  }

  onApplicationShutdown(): void {
    if (this.storage instanceof S3FileStorage) this.storage.close();
  }
}

@Global()
@Module({
  providers: [{ provide: FileStorage, inject: [APP_CONFIG], useFactory: createFileStorage }, StorageStartCheck, StorageSweepJob],
  exports: [FileStorage],
})
export class StorageModule {}
