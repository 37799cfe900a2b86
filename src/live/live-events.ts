import { EventEmitter, once } from 'node:events';
import { BeforeApplicationShutdown, Logger, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import IORedis from 'ioredis';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { logConnectionTrouble } from '../redis/connection-log';
import { RedisConnection } from '../redis/redis.module';
import { closeOpenEventStreams } from './event-stream';

/**
 * What `subscribe` returns: call it to unsubscribe (calling it again does nothing). `ready` settles once the
 * subscription is active, so that anything published anywhere after it is delivered to the listener: at once
 * in-process; once Redis has acknowledged the SUBSCRIBE with Redis (which waits out an outage). It rejects only
 * if the subscription could not be made at all (the connection was closed); nothing needs to await it.
 */
export type Subscription = (() => void) & { readonly ready: Promise<void> };

type Listener = (message: string) => void;

/**
 * Publish/subscribe of small text messages between web instances (webinar live Q&A, fanned out to the
 * server-sent-event streams each instance holds). Fire and forget: a message published while an instance is
 * cut off from Redis never reaches it, so subscribers treat messages as hints and reload state when in doubt.
 */
export abstract class LiveEvents implements BeforeApplicationShutdown, OnApplicationShutdown {
  protected readonly logger = new Logger('LiveEvents');
  private httpServer: () => object | undefined = () => undefined;

  /** Delivers `message` to every subscriber of `channel` on every instance. Rejects when that is impossible (Redis down). */
  abstract publish(channel: string, message: string): Promise<void>;

  /** Returns an unsubscribe function. Listeners of one channel in this process share one Redis subscription. */
  abstract subscribe(channel: string, listener: Listener): Subscription;

  /** Releases connections; publishing and subscribing afterwards fail. */
  abstract close(): Promise<void>;

  /**
   * Has the app's shutdown end the event streams open on this HTTP server (liveEventsProvider sets it): an open
   * stream is an active connection, which Nest's close of the HTTP server would wait for until the process's
   * shutdown timeout. Browsers reconnect (to another instance) after the stream's retry delay.
   */
  endEventStreamsOnShutdown(httpServer: () => object | undefined): this {
    this.httpServer = httpServer;
    return this;
  }

  /** Nest calls this before it closes the HTTP server. */
  beforeApplicationShutdown(): void {
    const server = this.httpServer();
    if (server) closeOpenEventStreams(server);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Calls each listener; one that throws is logged and does not stop the others. */
  protected deliver(listeners: Iterable<Listener>, channel: string, message: string): void {
    for (const listener of [...listeners]) {
      try {
        listener(message);
      } catch (err) {
        this.logger.error(`A listener of live channel "${channel}" failed: ${err instanceof Error ? err.message : String(err)}`, err instanceof Error ? err.stack : undefined);
      }
    }
  }
}

function subscription(unsubscribe: () => void, ready: Promise<void>): Subscription {
  let done = false;
  // Nobody has to await `ready`: mark its rejection handled here (awaiting it still throws).
  ready.catch(() => undefined);
  return Object.assign(
    () => {
      if (done) return;
      done = true;
      unsubscribe();
    },
    { ready },
  );
}

/** The embedded default: one process, so an EventEmitter is the whole bus. Listeners run before `publish` resolves. */
export class InProcessLiveEvents extends LiveEvents {
  private readonly emitter = new EventEmitter();
  private closed = false;

  constructor() {
    super();
    // One listener per open stream: many are expected.
    this.emitter.setMaxListeners(0);
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) throw new Error('Live events are closed: the application is shutting down');
    // Each subscription's own wrapper catches its errors (see subscribe), so emit reaches every listener.
    this.emitter.emit(eventName(channel), message);
  }

  subscribe(channel: string, listener: Listener): Subscription {
    if (this.closed) throw new Error('Live events are closed: the application is shutting down');
    const wrapped = (message: string) => this.deliver([listener], channel, message);
    this.emitter.on(eventName(channel), wrapped);
    return subscription(() => this.emitter.off(eventName(channel), wrapped), Promise.resolve());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emitter.removeAllListeners();
  }
}

/** Namespaced so that a channel called "error" is not EventEmitter's special event. */
const eventName = (channel: string) => `live:${channel}`;

export interface RedisLiveEventsOptions {
  /** The Redis URL; a connection of its own is opened, at the first subscription, for subscribing (a subscribed connection can do nothing else). */
  url: string;
  /** Prefix of the Redis channel names (REDIS_PREFIX). Pub/sub ignores the database number, so this is what keeps deployments apart. */
  prefix: string;
  /** The connection to PUBLISH on: the shared, fail-fast RedisConnection client. Not closed by `close()`; its owner closes it. */
  publisher: IORedis;
}

/**
 * Redis pub/sub across web instances. One dedicated subscriber connection per process; a Redis channel is
 * subscribed when its first local listener arrives and unsubscribed when its last one leaves. After Redis comes
 * back, ioredis subscribes again to every channel (autoResubscribe), and (un)subscriptions asked for during the
 * outage are sent then, in order, from its offline queue.
 */
export class RedisLiveEvents extends LiveEvents {
  private readonly subscriber: IORedis;
  private readonly publisher: IORedis;
  private readonly prefix: string;
  /** Full Redis channel name → its local listeners and the promise of its SUBSCRIBE. */
  private readonly channels = new Map<string, { listeners: Set<Listener>; ready: Promise<void> }>();
  private closed = false;

  constructor(options: RedisLiveEventsOptions) {
    super();
    this.prefix = options.prefix;
    this.publisher = options.publisher;
    this.subscriber = new IORedis(options.url, {
      connectionName: `${options.prefix}:live-events`,
      // Connects on the first subscription: a worker process, which never subscribes, opens no connection.
      lazyConnect: true,
      autoResubscribe: true,
      // Subscriptions wait out an outage in the offline queue instead of failing after a few reconnects.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    });
    logConnectionTrouble(this.subscriber, this.logger, 'live events');
    this.subscriber.on('message', (redisChannel: string, message: string) => {
      const entry = this.channels.get(redisChannel);
      if (entry) this.deliver(entry.listeners, this.localName(redisChannel), message);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) throw new Error('Live events are closed: the application is shutting down');
    // The shared client is fail-fast (no offline queue): say plainly why rather than ioredis's "Stream isn't writeable".
    if (this.publisher.status !== 'ready') {
      throw new Error(`Could not publish the live event on "${channel}": Redis is not connected (${this.publisher.status})`);
    }
    try {
      await this.publisher.publish(this.redisName(channel), message);
    } catch (err) {
      throw new Error(`Could not publish the live event on "${channel}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  subscribe(channel: string, listener: Listener): Subscription {
    if (this.closed) throw new Error('Live events are closed: the application is shutting down');
    const name = this.redisName(channel);
    let entry = this.channels.get(name);
    if (!entry) {
      const ready = this.subscriber.subscribe(name).then(
        () => undefined,
        (err: Error) => {
          if (!this.closed) this.logger.warn(`Could not subscribe to live channel "${channel}": ${err.message}`);
          throw err;
        },
      );
      entry = { listeners: new Set(), ready };
      this.channels.set(name, entry);
    }
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const own: Listener = (message) => listener(message);
    entry.listeners.add(own);
    const current = entry;
    return subscription(() => {
      current.listeners.delete(own);
      if (current.listeners.size > 0 || this.channels.get(name) !== current) return;
      this.channels.delete(name);
      if (this.closed) return;
      this.subscriber.unsubscribe(name).catch((err: Error) => {
        if (!this.closed) this.logger.warn(`Could not unsubscribe from live channel "${channel}": ${err.message}`);
      });
    }, current.ready);
  }

  /**
   * Closes the subscriber connection at once (pending subscriptions reject) and resolves when its socket has
   * closed (waiting at most a second). The publisher is its owner's to close.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    // Between reconnect attempts there is no socket, and ioredis emits no 'end' on disconnect: nothing to wait for.
    const open = ['connect', 'connecting', 'ready'].includes(this.subscriber.status);
    const ended = open ? once(this.subscriber, 'end') : undefined;
    this.subscriber.disconnect();
    if (ended) await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  private redisName(channel: string): string {
    return `${this.prefix}:live:${channel}`;
  }

  private localName(redisChannel: string): string {
    return redisChannel.slice(`${this.prefix}:live:`.length);
  }
}

/**
 * `LiveEvents` for Nest: Redis pub/sub when REDIS_URL is set, else in-process. Nest calls the instance's
 * shutdown hooks (factory-made instances get them too): open event streams end before the HTTP server closes,
 * and the subscriber connection closes with the app. Needs the global RedisModule (the shared publishing connection).
 */
export const liveEventsProvider = {
  provide: LiveEvents,
  inject: [APP_CONFIG, RedisConnection, HttpAdapterHost],
  useFactory: (config: AppConfig, redis: RedisConnection, adapterHost?: HttpAdapterHost): LiveEvents => {
    const events =
      config.redis && redis.client ? new RedisLiveEvents({ url: config.redis.url, prefix: redis.prefix, publisher: redis.client }) : new InProcessLiveEvents();
    // A worker (application context) has no HTTP adapter, so no streams.
    return events.endEventStreamsOnShutdown(() => adapterHost?.httpAdapter?.getHttpServer() ?? undefined);
  },
};
