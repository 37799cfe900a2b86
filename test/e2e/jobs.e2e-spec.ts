import 'reflect-metadata';
import { INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, loadConfig } from '../../src/config/config';
import { ConfigModule } from '../../src/config/config.module';
import { JobHandler } from '../../src/jobs/job-handler.decorator';
import type { JobContext, JobData, JobHandler as Handler } from '../../src/jobs/job-registry';
import { JobsModule } from '../../src/jobs/jobs.module';
import { JobsService } from '../../src/jobs/jobs.service';
import { provisionEngines, TestEngines } from '../support/engines';
import { waitFor } from '../support/wait';

declare module '../../src/jobs/job-registry' {
  interface JobRegistry {
    'test.record': { value: string };
    'test.flaky': { key: string; failTimes: number };
    'test.slow': { ms: number };
    'test.tick': Record<string, never>;
  }
}

/** What the handlers saw, shared by every app context in this file (as a database would be). */
const seen: Array<{ job: string; value?: string; at: number; attempt: number }> = [];
const failures = new Map<string, number>();

@Injectable()
@JobHandler('test.record')
class RecordJob implements Handler<'test.record'> {
  async handle(data: JobData<'test.record'>, context: JobContext) {
    seen.push({ job: 'record', value: data.value, at: Date.now(), attempt: context.attempt });
  }
}

@Injectable()
@JobHandler('test.flaky')
class FlakyJob implements Handler<'test.flaky'> {
  async handle(data: JobData<'test.flaky'>, context: JobContext) {
    seen.push({ job: 'flaky', value: data.key, at: Date.now(), attempt: context.attempt });
    const failed = failures.get(data.key) ?? 0;
    if (failed < data.failTimes) {
      failures.set(data.key, failed + 1);
      throw new Error(`planned failure ${failed + 1} of ${data.key}`);
    }
  }
}

@Injectable()
@JobHandler('test.slow')
class SlowJob implements Handler<'test.slow'> {
  async handle(data: JobData<'test.slow'>) {
    await new Promise((resolve) => setTimeout(resolve, data.ms));
    seen.push({ job: 'slow', at: Date.now(), attempt: 1 });
  }
}

@Injectable()
@JobHandler('test.tick', { everyMs: 250 })
class TickJob implements Handler<'test.tick'> {
  async handle(_: JobData<'test.tick'>, context: JobContext) {
    seen.push({ job: 'tick', at: Date.now(), attempt: context.attempt });
  }
}

@Injectable()
@JobHandler('test.record')
class SecondRecordJob implements Handler<'test.record'> {
  async handle() {}
}

async function context(config: AppConfig, handlers: Array<new (...args: never[]) => unknown>): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(config), JobsModule], providers: handlers })
  class JobsTestModule {}
  const app = await NestFactory.createApplicationContext(JobsTestModule, { logger: false });
  await app.init();
  return app;
}

const count = (job: string, value?: string) => seen.filter((s) => s.job === job && (value === undefined || s.value === value)).length;

describe(`jobs port (${process.env.REDIS_URL ? 'BullMQ on Redis' : 'in-process'} driver)`, () => {
  let engines: TestEngines;
  let config: AppConfig;
  let app: INestApplicationContext;
  let jobs: JobsService;

  beforeAll(async () => {
    engines = await provisionEngines();
    config = loadConfig({ ...engines.env, MIGRATE_ON_BOOT: 'false' });
    app = await context(config, [RecordJob, FlakyJob, SlowJob, TickJob]);
    jobs = app.get(JobsService);
  });
  afterAll(async () => {
    await app.close();
    await engines.dispose();
  });

  it('runs a named job with its data', async () => {
    await jobs.enqueue('test.record', { value: 'hello' });
    await waitFor(() => count('record', 'hello') === 1);
  });

  it('drops a duplicate of a job id that is waiting, running or recently finished', async () => {
    await Promise.all([1, 2, 3].map(() => jobs.enqueue('test.record', { value: 'once' }, { jobId: 'record:once' })));
    await waitFor(() => count('record', 'once') >= 1);
    await jobs.enqueue('test.record', { value: 'once' }, { jobId: 'record:once' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count('record', 'once')).toBe(1);
  });

  it('delays a job', async () => {
    const start = Date.now();
    await jobs.enqueue('test.record', { value: 'later' }, { delayMs: 400 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(count('record', 'later')).toBe(0);
    await waitFor(() => count('record', 'later') === 1);
    expect(seen.find((s) => s.value === 'later')!.at - start).toBeGreaterThanOrEqual(390);
  });

  it('retries a failing job with exponential backoff until it succeeds', async () => {
    await jobs.enqueue('test.flaky', { key: 'twice', failTimes: 2 }, { attempts: 4, backoffMs: 100 });
    await waitFor(() => count('flaky', 'twice') === 3);
    const runs = seen.filter((s) => s.value === 'twice');
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(95);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(195);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count('flaky', 'twice')).toBe(3);
  });

  it('gives up after the last attempt and keeps the job as failed', async () => {
    const before = (await jobs.stats()).failed;
    await jobs.enqueue('test.flaky', { key: 'forever', failTimes: 99 }, { attempts: 2, backoffMs: 50 });
    await waitFor(() => count('flaky', 'forever') === 2);
    await waitFor(() => false, 300).catch(() => undefined);
    expect(count('flaky', 'forever')).toBe(2);
    expect((await jobs.stats()).failed).toBe(before + 1);
  });

  it('runs repeatable schedules', async () => {
    const before = count('tick');
    await waitFor(() => count('tick') >= before + 2, 5000);
  });

  it('refuses to enqueue a job nobody handles', async () => {
    await expect(jobs.enqueue('no.such.job' as 'test.record', { value: 'x' })).rejects.toThrow('No handler is registered for job "no.such.job"');
  });

  it('lets a running job finish when the process shuts down', async () => {
    // A process of its own (its own queue prefix), so nobody else can pick the job up.
    const own: AppConfig = { ...config, redis: config.redis && { ...config.redis, prefix: `${config.redis.prefix}-own` } };
    const other = await context(own, [RecordJob, FlakyJob, SlowJob, TickJob]);
    const before = count('slow');
    await other.get(JobsService).enqueue('test.slow', { ms: 700 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(count('slow')).toBe(before);
    await other.close();
    expect(count('slow')).toBe(before + 1);
  });
});

describe('job handler registry', () => {
  it('refuses to start when two providers handle the same job', async () => {
    const engines = await provisionEngines();
    try {
      const config = loadConfig({ ...engines.env, MIGRATE_ON_BOOT: 'false' });
      await expect(context(config, [RecordJob, SecondRecordJob])).rejects.toThrow('Job "test.record" has two handlers');
    } finally {
      await engines.dispose();
    }
  });
});

if (process.env.REDIS_URL) {
  describe('BullMQ driver with Redis', () => {
    it('runs a deterministic job once even with two worker processes consuming', async () => {
      const engines = await provisionEngines();
      const config = loadConfig({ ...engines.env, MIGRATE_ON_BOOT: 'false' });
      const [a, b] = await Promise.all([context(config, [RecordJob, FlakyJob, SlowJob, TickJob]), context(config, [RecordJob, FlakyJob, SlowJob, TickJob])]);
      try {
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).get(JobsService).enqueue('test.record', { value: 'two-workers' }, { jobId: 'record:two-workers' })));
        await waitFor(() => count('record', 'two-workers') >= 1);
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(count('record', 'two-workers')).toBe(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await engines.dispose();
      }
    });

    it('fails fast, without hanging the caller, when Redis cannot be reached', async () => {
      const engines = await provisionEngines();
      const config = loadConfig({ ...engines.env, REDIS_URL: 'redis://127.0.0.1:1', MIGRATE_ON_BOOT: 'false', PROCESS_ROLE: 'web' });
      const web = await context(config, [RecordJob]);
      try {
        const started = Date.now();
        expect(await web.get(JobsService).tryEnqueue('test.record', { value: 'lost' })).toBe(false);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await web.close();
        await engines.dispose();
      }
    });
  });
}
