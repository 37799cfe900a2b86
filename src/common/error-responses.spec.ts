import IORedis from 'ioredis';
import mysql from 'mysql2/promise';
import { DataSource, QueryFailedError } from 'typeorm';
import { QueueUnavailableError } from '../jobs/job-registry';
import { HttpException, NotFoundException } from '@nestjs/common';
import { describeError, PROBLEM_CODES, UNAVAILABLE_DETAIL, unavailableDependency } from './error-responses';
import { CODE_BY_KIND, Conflict, Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthenticated, ValidationFailed } from './errors';

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

describe('problem codes', () => {
  it('name each kind of domain error, or the case it was given', () => {
    const cases: Array<[unknown, number, string]> = [
      [new ValidationFailed({ name: 'Enter your name' }), 400, 'validation_failed'],
      [new Unauthenticated(), 401, 'unauthenticated'],
      [new Forbidden(), 403, 'forbidden'],
      [new Forbidden('Enrol first', 'not_enrolled'), 403, 'not_enrolled'],
      [new NotFound(), 404, 'not_found'],
      [new Conflict('Taken'), 409, 'conflict'],
      [new TooManyRequests(60), 429, 'rate_limited'],
      [new ServiceUnavailable(), 503, 'unavailable'],
      [new QueueUnavailableError('no answer'), 503, 'unavailable'],
      [new Error('a bug'), 500, 'internal_error'],
    ];
    for (const [error, status, code] of cases) expect(describeError(error)).toMatchObject({ status, code });
    expect(Object.values(CODE_BY_KIND).every((code) => PROBLEM_CODES.includes(code))).toBe(true);
  });

  it('name what Fastify could not read, whether Nest hands the error on as it is or wrapped in an HttpException', () => {
    const fastify = (code: string, statusCode: number, message: string) => Object.assign(new Error(message), { code, statusCode });
    const cases: Array<[Error, number, string]> = [
      [fastify('FST_ERR_CTP_INVALID_JSON_BODY', 400, "Body is not valid JSON but content-type is set to 'application/json'"), 400, 'bad_json'],
      [fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'), 413, 'payload_too_large'],
      [fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type'), 415, 'unsupported_media_type'],
      [fastify('ACADEMY_JSON_TOO_DEEP', 400, 'The request body is nested too deeply'), 400, 'json_too_deep'],
    ];
    for (const [error, status, code] of cases) {
      expect(describeError(error)).toMatchObject({ status, code });
      expect(describeError(new HttpException(error.message, status, { cause: error }))).toMatchObject({ status, code });
    }
    expect(describeError(cases[0][0]).detail).toBe('The request body is not valid JSON.');
    expect(describeError(new NotFoundException())).toMatchObject({ status: 404, code: 'not_found' });
    expect(describeError(new HttpException('Method not allowed', 405))).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });
});
