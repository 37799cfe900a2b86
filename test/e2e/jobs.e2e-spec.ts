import 'reflect-metadata';
import { INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import IORedis from 'ioredis';
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
    'test.gate': { key: string };
    'test.hourly': Record<string, never>;
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

/** Runs until the test opens its gate: a job that is certainly running. */
const gates = new Map<string, () => void>();
const opened = (key: string) => new Promise<void>((resolve) => gates.set(key, resolve));

@Injectable()
@JobHandler('test.gate')
class GateJob implements Handler<'test.gate'> {
  async handle(data: JobData<'test.gate'>, context: JobContext) {
    const gate = opened(data.key);
    seen.push({ job: 'gate-start', value: data.key, at: Date.now(), attempt: context.attempt });
    await gate;
    seen.push({ job: 'gate', value: data.key, at: Date.now(), attempt: context.attempt });
  }
}

/** A schedule whose runs are an hour apart: it runs once when first scheduled, then not again during the test. */
@Injectable()
@JobHandler('test.hourly', { everyMs: 3600_000 })
class HourlyJob implements Handler<'test.hourly'> {
  async handle(_: JobData<'test.hourly'>, context: JobContext) {
    seen.push({ job: 'hourly', at: Date.now(), attempt: context.attempt });
  }
}

const HANDLERS = [RecordJob, FlakyJob, SlowJob, TickJob, GateJob, HourlyJob];

@Injectable()
@JobHandler('test.record')
class SecondRecordJob implements Handler<'test.record'> {
  async handle() {}
}

async function deleteKeys(url: string, pattern: string) {
  const redis = new IORedis(url);
  try {
    const keys = await redis.keys(pattern);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
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
    app = await context(config, HANDLERS);
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

  it('runs a finished job again when a sweep asks (rerunFinished): completed, or failed after its last attempt, from its first attempt', async () => {
    await jobs.enqueue('test.record', { value: 'again' }, { jobId: 'record:again' });
    await waitFor(() => count('record', 'again') === 1);
    await waitFor(async () => (await jobs.stats()).active === 0);
    await jobs.enqueue('test.record', { value: 'again' }, { jobId: 'record:again', rerunFinished: true });
    await waitFor(() => count('record', 'again') === 2);

    await jobs.enqueue('test.flaky', { key: 'exhausted', failTimes: 2 }, { jobId: 'flaky:exhausted', attempts: 2, backoffMs: 20 });
    await waitFor(() => count('flaky', 'exhausted') === 2);
    await waitFor(async () => (await jobs.stats()).failed >= 1 && (await jobs.stats()).active === 0);
    // Without the option the failed job's id still deduplicates, as BullMQ keeps it for days.
    await jobs.enqueue('test.flaky', { key: 'exhausted', failTimes: 2 }, { jobId: 'flaky:exhausted', attempts: 2, backoffMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count('flaky', 'exhausted')).toBe(2);
    await jobs.enqueue('test.flaky', { key: 'exhausted', failTimes: 2 }, { jobId: 'flaky:exhausted', attempts: 2, backoffMs: 20, rerunFinished: true });
    await waitFor(() => count('flaky', 'exhausted') === 3);
    expect(seen.filter((s) => s.value === 'exhausted').map((s) => s.attempt)).toEqual([1, 2, 1]);
  });

  it('leaves a delayed or running job alone when a sweep asks for it again', async () => {
    await jobs.enqueue('test.record', { value: 'delayed-again' }, { jobId: 'record:delayed-again', delayMs: 500 });
    await Promise.all([1, 2, 3].map(() => jobs.enqueue('test.record', { value: 'delayed-again' }, { jobId: 'record:delayed-again', rerunFinished: true })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(count('record', 'delayed-again')).toBe(0);
    await waitFor(() => count('record', 'delayed-again') === 1);

    await jobs.enqueue('test.gate', { key: 'running' }, { jobId: 'gate:running' });
    await waitFor(() => count('gate-start', 'running') === 1);
    await Promise.all([1, 2, 3].map(() => jobs.enqueue('test.gate', { key: 'running' }, { jobId: 'gate:running', rerunFinished: true })));
    gates.get('running')!();
    await waitFor(() => count('gate', 'running') === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count('gate-start', 'running')).toBe(1);
    await expect(jobs.enqueue('test.record', { value: 'x' }, { rerunFinished: true })).rejects.toThrow('rerunFinished needs a jobId');
  });

  it('leaves a healthy schedule alone when workers check it: no run added, moved or skipped', async () => {
    // BullMQ runs a new schedule at once (in-process ones first run after their interval).
    if (jobs.driver.kind === 'bullmq') await waitFor(() => count('hourly') === 1);
    const hourly = count('hourly');
    const ticks = count('tick');
    // Checked far more often than it runs: a check that restarted the schedule would starve it.
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      await Promise.all([jobs.ensureSchedules(), jobs.ensureSchedules()]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(count('tick')).toBeGreaterThanOrEqual(ticks + 2);
    expect(count('hourly')).toBe(hourly);
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
    const other = await context(own, HANDLERS);
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
      const [a, b] = await Promise.all([context(config, HANDLERS), context(config, HANDLERS)]);
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

    it('makes lost schedules again when Redis has lost its data, and they run at once', async () => {
      const engines = await provisionEngines();
      const config = loadConfig({ ...engines.env, MIGRATE_ON_BOOT: 'false' });
      const worker = await context(config, HANDLERS);
      try {
        await waitFor(() => count('hourly') >= 1);
        const before = count('hourly');
        // As after a failover to an empty Redis: every key of this installation's queue is gone.
        await deleteKeys(config.redis!.url, `${config.redis!.prefix}:bull:*`);
        await worker.get(JobsService).ensureSchedules();
        await waitFor(() => count('hourly') === before + 1);
        const ticks = count('tick');
        await waitFor(() => count('tick') >= ticks + 2, 5000);
      } finally {
        await worker.close();
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
