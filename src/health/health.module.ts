import { Module } from '@nestjs/common';
import { WorkerHeartbeat } from './worker-heartbeat';
import { HealthController } from './health.controller';
import { Readiness } from './readiness';

/** The probes, and the heartbeat by which a process that consumes jobs tells them it is alive (every role has it). */
@Module({ controllers: [HealthController], providers: [Readiness, WorkerHeartbeat], exports: [Readiness, WorkerHeartbeat] })
export class HealthModule {}
