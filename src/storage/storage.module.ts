import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { FileStorage } from './file-storage';
import { LocalFileStorage, localStorageRoot } from './local-file-storage';

@Global()
@Module({
  providers: [{ provide: FileStorage, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new LocalFileStorage(localStorageRoot(config.dataDir)) }],
  exports: [FileStorage],
})
export class StorageModule {}
