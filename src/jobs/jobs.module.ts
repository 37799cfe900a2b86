import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobsService } from './jobs.service';
import { WorkerHeartbeat } from './worker-heartbeat';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [JobsService, WorkerHeartbeat],
  exports: [JobsService, WorkerHeartbeat],
})
export class JobsModule {}
