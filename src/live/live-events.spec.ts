import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Logger, Module, Param, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import IORedis from 'ioredis';
import { applySecurityHeaders } from '../common/security-headers';
import type { AppConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { RedisConnection, RedisModule } from '../redis/redis.module';
import { closeOpenEventStreams, type EventStream, openEventStream } from './event-stream';
import { InProcessLiveEvents, LiveEvents, liveEventsProvider, RedisLiveEvents } from './live-events';

const REDIS_URL = process.env.REDIS_URL;
const WAIT_MS = 5000;

/** Resolves with the value once `check` returns one (polled), or fails after `ms`. For state, not for messages. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A listener that records what it got and lets a test wait for a given message. */
function recorder() {
  const received: string[] = [];
  const waiters: Array<{ message: string; resolve: () => void }> = [];
  const listener = (message: string) => {
    received.push(message);
    for (const w of waiters.filter((w) => w.message === message)) w.resolve();
  };
  const waitFor = (message: string) =>
    received.includes(message) ? Promise.resolve() : withTimeout(new Promise<void>((resolve) => waiters.push({ message, resolve })), `message "${message}"`);
  return { listener, received, waitFor };
}

describe('InProcessLiveEvents', () => {
  let events: InProcessLiveEvents;
  beforeEach(() => (events = new InProcessLiveEvents()));
  afterEach(() => events.close());

  it('delivers to every listener of the channel, and only of that channel', async () => {
    const a = recorder();
    const b = recorder();
    const other = recorder();
    await events.subscribe('webinar:1', a.listener).ready;
    events.subscribe('webinar:1', b.listener);
    events.subscribe('webinar:2', other.listener);

    await events.publish('webinar:1', 'hello');

    expect(a.received).toEqual(['hello']);
    expect(b.received).toEqual(['hello']);
    expect(other.received).toEqual([]);
  });

  it('stops delivering after unsubscribe, and unsubscribing twice removes only that subscription', async () => {
    const a = recorder();
    const b = recorder();
    const unsubscribeA = events.subscribe('c', a.listener);
    events.subscribe('c', b.listener);
    // The same function subscribed twice is two subscriptions.
    const twice = recorder();
    const first = events.subscribe('c', twice.listener);
    events.subscribe('c', twice.listener);

    unsubscribeA();
    unsubscribeA();
    first();
    await events.publish('c', 'm');

    expect(a.received).toEqual([]);
    expect(b.received).toEqual(['m']);
    expect(twice.received).toEqual(['m']);
  });

  it('keeps a throwing listener from breaking the others', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const after = recorder();
    events.subscribe('c', () => {
      throw new Error('boom');
    });
    events.subscribe('c', after.listener);

    await expect(events.publish('c', 'm')).resolves.toBeUndefined();

    expect(after.received).toEqual(['m']);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('boom'), expect.any(String));
    error.mockRestore();
  });

  it('treats a channel called "error" like any other', async () => {
    await expect(events.publish('error', 'nobody listens')).resolves.toBeUndefined();
    const r = recorder();
    events.subscribe('error', r.listener);
    await events.publish('error', 'm');
    expect(r.received).toEqual(['m']);
  });

  it('is what the provider gives without Redis', () => {
    const made = liveEventsProvider.useFactory({ redis: null } as AppConfig, { client: null, prefix: 'academy' } as RedisConnection);
    expect(made).toBeInstanceOf(InProcessLiveEvents);
    expect(made).toBeInstanceOf(LiveEvents);
  });
});

(REDIS_URL ? describe : describe.skip)('RedisLiveEvents', () => {
  const url = REDIS_URL!;
  const prefix = `test-live-${randomBytes(4).toString('hex')}`;
  const connections: RedisConnection[] = [];
  const instances: RedisLiveEvents[] = [];
  let admin: IORedis;

  /** One web instance: its shared fail-fast connection (as the app makes it) and its live events. */
  async function webInstance(instancePrefix = prefix): Promise<RedisLiveEvents> {
    const connection = new RedisConnection({ redis: { url, prefix: instancePrefix } } as AppConfig);
    connections.push(connection);
    if (connection.client!.status !== 'ready') await withTimeout(once(connection.client!, 'ready'), 'Redis');
    const events = liveEventsProvider.useFactory({ redis: { url, prefix: instancePrefix } } as AppConfig, connection);
    expect(events).toBeInstanceOf(RedisLiveEvents);
    instances.push(events as RedisLiveEvents);
    return events as RedisLiveEvents;
  }

  const subscribers = async (channel: string) => {
    const [, count] = (await admin.pubsub('NUMSUB', `${prefix}:live:${channel}`)) as [string, number];
    return Number(count);
  };

  beforeAll(() => {
    admin = new IORedis(url, { maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    for (const events of instances.splice(0)) await events.close();
    for (const connection of connections.splice(0)) connection.onApplicationShutdown();
  });

  afterAll(() => admin.disconnect());

  it('delivers a message published on one instance to subscribers on both, several listeners sharing one Redis subscription', async () => {
    const one = await webInstance();
    const two = await webInstance();
    const onOne = recorder();
    const onTwoA = recorder();
    const onTwoB = recorder();
    await one.subscribe('webinar:7', onOne.listener).ready;
    await two.subscribe('webinar:7', onTwoA.listener).ready;
    await two.subscribe('webinar:7', onTwoB.listener).ready;
    expect(await subscribers('webinar:7')).toBe(2);

    await one.publish('webinar:7', 'question asked');

    await Promise.all([onOne.waitFor('question asked'), onTwoA.waitFor('question asked'), onTwoB.waitFor('question asked')]);
    expect([onOne.received, onTwoA.received, onTwoB.received]).toEqual([['question asked'], ['question asked'], ['question asked']]);
  });

  it('keeps channels and prefixes apart', async () => {
    const one = await webInstance();
    const two = await webInstance();
    const otherDeployment = await webInstance(`${prefix}-other`);
    const wanted = recorder();
    const otherChannel = recorder();
    const otherPrefix = recorder();
    const sentinel = recorder();
    await two.subscribe('webinar:1', wanted.listener).ready;
    await two.subscribe('webinar:2', otherChannel.listener).ready;
    await two.subscribe('sentinel', sentinel.listener).ready;
    await otherDeployment.subscribe('webinar:1', otherPrefix.listener).ready;

    await one.publish('webinar:1', 'for 1');
    // Messages from one publishing connection arrive in order: once the sentinel is here, nothing else is coming.
    await one.publish('sentinel', 'done');
    await sentinel.waitFor('done');

    expect(wanted.received).toEqual(['for 1']);
    expect(otherChannel.received).toEqual([]);
    expect(otherPrefix.received).toEqual([]);
  });

  it('stops delivering after unsubscribe and leaves the Redis channel when the last local listener does', async () => {
    const one = await webInstance();
    const two = await webInstance();
    const staying = recorder();
    const leaving = recorder();
    const sentinel = recorder();
    await one.subscribe('c', staying.listener).ready;
    const unsubscribe = two.subscribe('c', leaving.listener);
    await unsubscribe.ready;
    await two.subscribe('sentinel', sentinel.listener).ready;
    expect(await subscribers('c')).toBe(2);

    unsubscribe();
    await eventually(async () => ((await subscribers('c')) === 1 ? true : undefined), 'the UNSUBSCRIBE');
    await one.publish('c', 'after');
    await one.publish('sentinel', 'done');

    await Promise.all([staying.waitFor('after'), sentinel.waitFor('done')]);
    expect(leaving.received).toEqual([]);
  });

  it('subscribes again by itself after the subscriber connection is lost', async () => {
    const one = await webInstance();
    const two = await webInstance();
    const r = recorder();
    await two.subscribe('c', r.listener).ready;
    const ours = String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${prefix}:live-events `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]);
    // Only `two` subscribes; `one` only publishes, so it never opens a subscriber connection.
    expect(ours).toHaveLength(1);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    for (const id of ours) await admin.client('KILL', 'ID', id);
    await eventually(async () => ((await subscribers('c')) === 1 ? true : undefined), 'the resubscription');
    await one.publish('c', 'after reconnect');

    await r.waitFor('after reconnect');
    warn.mockRestore();
  });

  it('keeps a throwing listener from breaking the others', async () => {
    const one = await webInstance();
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const after = recorder();
    one.subscribe('c', () => {
      throw new Error('boom');
    });
    await one.subscribe('c', after.listener).ready;

    await one.publish('c', 'm');

    await after.waitFor('m');
    expect(error).toHaveBeenCalledWith(expect.stringContaining('boom'), expect.any(String));
    error.mockRestore();
  });

  it('rejects a publish with a clear error while Redis is not connected', async () => {
    const publisher = new IORedis(url, { lazyConnect: true, enableOfflineQueue: false });
    const events = new RedisLiveEvents({ url, prefix, publisher });
    instances.push(events);

    await expect(events.publish('c', 'm')).rejects.toThrow('Could not publish the live event on "c": Redis is not connected (wait)');
    publisher.disconnect();
  });

  it('closes: its subscriber connection ends, and it refuses work afterwards', async () => {
    const one = await webInstance();
    const pending = one.subscribe('c', () => undefined);
    await pending.ready;

    await one.onApplicationShutdown();

    expect((one as unknown as { subscriber: IORedis }).subscriber.status).toBe('end');
    expect(() => one.subscribe('c', () => undefined)).toThrow('closed');
    await expect(one.publish('c', 'm')).rejects.toThrow('closed');
    pending();
  });
});

describe('openEventStream', () => {
  let app: FastifyInstance;
  let base: string;
  let streams: EventStream[];
  let streamClosed: Promise<void>;
  let markClosed: () => void;

  beforeEach(async () => {
    streams = [];
    streamClosed = new Promise((resolve) => (markClosed = resolve));
    app = fastify();
    applySecurityHeaders(app, { session: { cookieSecure: false } } as AppConfig);
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', 'req-1');
      done();
    });
    app.get('/stream', async (request, reply) => {
      const stream = openEventStream(request, reply, { keepAliveMs: 30, retryMs: 1500 });
      streams.push(stream);
      stream.onClose(() => markClosed());
      stream.send('question', { id: 1, text: 'Line one\nline two' });
      stream.send('answer', 'yes', '42');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterEach(() => app.close());

  /** GETs the stream and reads it as it comes. */
  async function openClient(): Promise<{ request: ClientRequest; response: IncomingMessage; readUntil: (text: string) => Promise<string> }> {
    const request = httpRequest(`${base}/stream`, { headers: { accept: 'text/event-stream' } });
    request.end();
    const [response] = (await withTimeout(once(request, 'response'), 'the response')) as [IncomingMessage];
    response.setEncoding('utf8');
    let body = '';
    const waiters: Array<() => void> = [];
    response.on('data', (chunk: string) => {
      body += chunk;
      for (const w of waiters.splice(0)) w();
    });
    const readUntil = (text: string) =>
      withTimeout(
        new Promise<string>((resolve) => {
          const check = () => (body.includes(text) ? resolve(body) : waiters.push(check));
          check();
        }),
        `"${text}" in the stream`,
      );
    return { request, response, readUntil };
  }

  it('streams events with SSE framing and the headers of the app', async () => {
    const { request, response, readUntil } = await openClient();

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store, no-transform');
    expect(response.headers['connection']).toBe('keep-alive');
    expect(response.headers['x-accel-buffering']).toBe('no');
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['content-encoding']).toBeUndefined();
    // Set by the app's onRequest hooks on the Fastify reply, copied to the hijacked response.
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-request-id']).toBe('req-1');

    const body = await readUntil(': keep-alive\n\n');
    expect(body.startsWith('retry: 1500\n\nevent: question\ndata: {"id":1,"text":"Line one\\nline two"}\n\nid: 42\nevent: answer\ndata: "yes"\n\n: keep-alive\n\n')).toBe(true);
    expect(streams[0].closed).toBe(false);

    request.destroy();
    await withTimeout(streamClosed, 'onClose after the client left');
    expect(streams[0].closed).toBe(true);
  });

  it('ends the response on close(), and closeOpenEventStreams ends them all', async () => {
    const first = await openClient();
    const second = await openClient();
    await first.readUntil('event: answer');
    const late = jest.fn();

    streams[0].close();
    await withTimeout(once(first.response, 'end'), 'the end of the first stream');
    expect(streams[0].closed).toBe(true);
    streams[0].onClose(late);
    expect(late).toHaveBeenCalledTimes(1);
    streams[0].send('ignored', 1);

    closeOpenEventStreams(app.server);
    await withTimeout(once(second.response, 'end'), 'the end of the second stream');
    expect(streams[1].closed).toBe(true);
  });

  it('refuses event names and ids that would break the framing', async () => {
    const { readUntil } = await openClient();
    await readUntil('event: answer');
    expect(() => streams[0].send('bad\nname', 1)).toThrow(TypeError);
    expect(() => streams[0].send('ok', 1, 'bad\rid')).toThrow(TypeError);
    streams[0].close();
  });
});

/** The two together in a Nest app, as the webinar controller will use them. */
@Controller('live')
class LiveController {
  static closed: string[] = [];
  constructor(@Inject(LiveEvents) private readonly live: LiveEvents) {}

  @Get(':channel')
  async stream(@Param('channel') channel: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const subscription = this.live.subscribe(channel, (message) => stream.send('message', JSON.parse(message)));
    const stream = openEventStream(request, reply);
    stream.onClose(() => {
      subscription();
      LiveController.closed.push(channel);
    });
    await subscription.ready;
    stream.send('ready', null);
  }
}

describe('live events in a Nest app', () => {
  const config = { redis: REDIS_URL ? { url: REDIS_URL, prefix: `test-live-${randomBytes(4).toString('hex')}` } : null } as AppConfig;

  it('streams what is published, and closing the app ends open streams and connections promptly', async () => {
    @Module({ imports: [ConfigModule.forRoot(config), RedisModule], controllers: [LiveController], providers: [liveEventsProvider] })
    class LiveTestModule {}
    const app = await NestFactory.create<NestFastifyApplication>(LiveTestModule, new FastifyAdapter(), { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const live = app.get(LiveEvents);
    expect(live).toBeInstanceOf(REDIS_URL ? RedisLiveEvents : InProcessLiveEvents);
    const redis = app.get(RedisConnection);
    if (redis.client && redis.client.status !== 'ready') await withTimeout(once(redis.client, 'ready'), 'Redis');

    const request = httpRequest(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/live/webinar-3`);
    request.end();
    const [response] = (await withTimeout(once(request, 'response'), 'the response')) as [IncomingMessage];
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    response.setEncoding('utf8');
    let body = '';
    const arrived = (text: string) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = () => body.includes(text) && (response.off('data', onData), resolve());
          const onData = (chunk: string) => ((body += chunk), check());
          response.on('data', onData);
          check();
        }),
        `"${text}"`,
      );
    await arrived('event: ready\ndata: null\n\n');
    await live.publish('webinar-3', JSON.stringify({ question: 'Why?' }));
    await arrived('event: message\ndata: {"question":"Why?"}\n\n');

    const ended = once(response, 'end');
    const started = Date.now();
    await withTimeout(app.close(), 'app.close()');
    await withTimeout(ended, 'the end of the stream');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(LiveController.closed).toEqual(['webinar-3']);
    if (live instanceof RedisLiveEvents) expect((live as unknown as { subscriber: IORedis }).subscriber.status).toBe('end');
    // RedisConnection's own shutdown hook disconnects without waiting for the socket.
    if (redis.client) await eventually(() => (redis.client!.status === 'end' ? true : undefined), 'the shared connection to close');
    expect(() => live.subscribe('x', () => undefined)).toThrow('closed');
  });
});
