import IORedis from 'ioredis';
import mysql from 'mysql2/promise';
import { DataSource, QueryFailedError } from 'typeorm';
import { QueueUnavailableError } from '../jobs/job-registry';
import { describeError, UNAVAILABLE_DETAIL, unavailableDependency } from './error-responses';
import { ServiceUnavailable } from './errors';

/** Nothing listens on port 1: the errors below are the ones the real clients raise when their server is gone. */
const CLOSED = 'redis://127.0.0.1:1';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('errors of unavailable dependencies', () => {
  it('are answered 503 with Retry-After and "try again in a minute": Redis (as the request-path connection is set up)', async () => {
    const redis = new IORedis(CLOSED, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 500, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      for (const command of [redis.get('session:x'), redis.multi().incr('rate:x').ttl('rate:x').exec()]) {
        const err = await rejectionOf(command);
        expect(unavailableDependency(err)).toBe('redis');
        expect(describeError(err)).toMatchObject({ status: 503, title: 'Sorry, the service is unavailable', detail: UNAVAILABLE_DETAIL, retryAfterSeconds: 60 });
      }
    } finally {
      redis.disconnect();
    }
  });

  it('the database, raw from the mysql2 pool or wrapped by TypeORM', async () => {
    const pool = mysql.createPool({ uri: 'mysql://root@127.0.0.1:1/academy', connectTimeout: 500 });
    try {
      const err = await rejectionOf(pool.query('SELECT 1'));
      expect(unavailableDependency(err)).toBe('database');
      expect(unavailableDependency(new QueryFailedError('SELECT 1', [], err as Error))).toBe('database');
      expect(describeError(err)).toMatchObject({ status: 503, retryAfterSeconds: 60 });
    } finally {
      await pool.end();
    }
  });

  it('the job queue, and a service that says it is unavailable', () => {
    expect(describeError(new QueueUnavailableError('the job queue did not answer within 1500 ms'))).toMatchObject({ status: 503, detail: UNAVAILABLE_DETAIL, retryAfterSeconds: 60 });
    expect(describeError(new ServiceUnavailable())).toMatchObject({ status: 503, retryAfterSeconds: 60 });
  });

  it('but a failing query is still a 500 (a bug to fix, not an outage to wait out)', async () => {
    const db = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
    const err = await rejectionOf(db.query('SELEC 1')).finally(() => db.destroy());
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(unavailableDependency(err)).toBeNull();
    expect(describeError(err).status).toBe(500);
    expect(describeError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')).status).toBe(500);
  });
});
