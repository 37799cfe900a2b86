import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashToken } from '../accounts/session-store';
import { DomainError } from '../common/errors';
import { RedisConnection } from '../redis/redis.module';

/** A server-sent-events response held open by a controller (see openEventStream). */
export interface EventStream {
  /** Writes one event: `event: NAME`, then `data:` with `data` as one line of JSON. Does nothing once closed. */
  send(event: string, data: unknown, id?: string): void;
  readonly closed: boolean;
  /** Runs `fn` once when the stream ends, whoever ends it; at once if it already has. */
  onClose(fn: () => void): void;
  /** Ends the response; the browser's EventSource reconnects after the retry delay. */
  close(): void;
}

export interface EventStreamOptions {
  /** A `: keep-alive` comment this often, so proxies and load balancers do not time an idle stream out. Default 25 s. */
  keepAliveMs?: number;
  /** The reconnection delay sent to the browser (`retry:`). Default 3 s. */
  retryMs?: number;
  /** A client that lets this much pile up unread is dropped (it reconnects and catches up). Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** Headers of the reply that must not carry over to an event stream. */
const DROPPED_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'etag', 'last-modified']);
/** Connection-specific headers, which HTTP/2 forbids. */
const HTTP1_ONLY_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const LINE_BREAK = /[\r\n]/;

/** The streams open on each HTTP server, so that its shutdown can end them (see closeOpenEventStreams). */
const openStreams = new WeakMap<object, Set<EventStream>>();

/**
 * Answers the request with a server-sent-events stream, from a controller method that takes
 * `@Req() request: FastifyRequest, @Res() reply: FastifyReply` and returns without sending.
 *
 * The reply is hijacked: Fastify sends nothing more and runs no onSend hook for it. The headers the app's
 * onRequest hooks put on the reply (security headers, x-request-id) are copied to the response; cookies
 * queued with `reply.setCookie` are not (@fastify/cookie writes them in an onSend hook), so an event-stream
 * route must not rely on setting cookies. Nothing compresses responses in this app (no @fastify/compress); a
 * compressing proxy in front must pass text/event-stream through unbuffered (`x-accel-buffering: no` tells nginx).
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, options: EventStreamOptions = {}): EventStream {
  const keepAliveMs = options.keepAliveMs ?? 25_000;
  const retryMs = options.retryMs ?? 3000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const res = reply.raw;
  const http2 = request.raw.httpVersionMajor === 2;
  // The app's Node HTTP server (every Fastify plugin context shares the root's).
  const server: object = request.server.server;

  reply.hijack();

  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    const key = name.toLowerCase();
    if (value === undefined || DROPPED_HEADERS.has(key) || (http2 && HTTP1_ONLY_HEADERS.has(key))) continue;
    headers[key] = value;
  }
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  // Streams are for signed-in people: nothing of them is stored anywhere on the way.
  headers['cache-control'] = 'no-store, no-transform';
  if (!http2) headers['connection'] = 'keep-alive';
  headers['x-accel-buffering'] = 'no';

  let closed = false;
  let keepAlive: NodeJS.Timeout | null = null;
  const closeListeners: Array<() => void> = [];

  const finish = () => {
    if (closed) return;
    closed = true;
    openStreams.get(server)?.delete(stream);
    if (keepAlive) clearInterval(keepAlive);
    res.off('close', finish);
    res.off('error', finish);
    for (const fn of closeListeners.splice(0)) runCloseListener(request, fn);
  };

  const write = (chunk: string) => {
    if (closed) return;
    if (res.destroyed || res.writableEnded) return finish();
    res.write(chunk);
    // A stalled reader would make this process hold every event for it: let it go and reconnect.
    if (res.writableLength > maxBufferedBytes) {
      request.log.warn(`Event stream dropped: its client left ${res.writableLength} bytes unread`);
      stream.close();
    }
  };

  const stream: EventStream = {
    send(event, data, id) {
      if (LINE_BREAK.test(event)) throw new TypeError('An event name cannot contain a line break');
      if (id !== undefined && (LINE_BREAK.test(id) || id.includes('\0'))) throw new TypeError('An event id cannot contain a line break or NUL');
      // JSON escapes control characters, so the data is one line. undefined has no JSON: send null.
      const json = JSON.stringify(data) ?? 'null';
      write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) runCloseListener(request, fn);
      else closeListeners.push(fn);
    },
    close() {
      if (closed) return;
      if (!res.destroyed && !res.writableEnded) res.end();
      finish();
    },
  };

  // The client may already have gone while guards and the handler ran: then there is nothing to open.
  // (Not request.raw.destroyed: a request whose body has been read is destroyed while its client still listens.)
  if (res.destroyed || res.writableEnded || request.raw.socket?.destroyed) {
    closed = true;
    return stream;
  }

  // The response's 'close' means the client went away (or the response ended). Not the request's: Node emits
  // that as soon as the request body has been read, which for a request with a body is long before.
  res.on('close', finish);
  res.on('error', finish);
  let registry = openStreams.get(server);
  if (!registry) openStreams.set(server, (registry = new Set()));
  registry.add(stream);

  res.writeHead(200, headers);
  write(`retry: ${retryMs}\n\n`);
  if (!closed) {
    keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
    keepAlive.unref();
  }
  return stream;
}

/**
 * Ends every event stream open on `server` (the app's Node HTTP server): called on shutdown, before the server
 * closes, which would otherwise wait for these active connections. Streams of other apps in the process stay.
 */
export function closeOpenEventStreams(server: object): void {
  for (const stream of [...(openStreams.get(server) ?? [])]) stream.close();
}

function runCloseListener(request: FastifyRequest, fn: () => void) {
  try {
    fn();
  } catch (err) {
    request.log.error({ err }, 'An event stream close listener failed');
  }
}

/** Event streams one session (or API token) may hold open at once, across every web instance. */
export const MAX_STREAMS_PER_SESSION = 5;

export class TooManyStreams extends DomainError {
  constructor(limit: number) {
    super('too_many_requests', `You have ${limit} live pages open already, which is as many as one sign-in may follow at once. Close one of them, then reload this page.`);
  }
}

/** Removes the leases past their time, then takes one if fewer than the limit are left. Redis's clock for every instance. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** Renews the leases this instance still holds (members it no longer has are not brought back). */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/**
 * Counts the event streams each session holds, so one sign-in cannot tie up a web instance's connections and
 * memory by opening streams without end. In Redis when configured (shared by every web instance): a sorted set
 * per session of leases that this instance renews while its streams are open and removes when they close, so
 * an abrupt disconnect frees its slot at once and a crashed instance's slots free themselves within a minute.
 * In this process on embedded defaults, where there is only one.
 */
@Injectable()
export class EventStreamSlots implements OnApplicationShutdown {
  private readonly logger = new Logger('EventStreamSlots');
  private readonly local = new Map<string, number>();
  /** Redis key -> the leases this instance holds under it. */
  private readonly held = new Map<string, Set<string>>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** A slot not renewed for this long is free again: the instance that held it has stopped (crashed, killed). Renewed every third of it. */
  leaseMs = 60_000;

  constructor(private readonly redis: RedisConnection) {}

  /** Whose streams a request's stream counts against: its session, or its API token. */
  static holderOf(request: FastifyRequest): string | null {
    const identity = request.identity;
    if (identity?.sessionToken) return `session:${hashToken(identity.sessionToken)}`;
    if (identity?.apiTokenId !== undefined) return `token:${identity.apiTokenId}`;
    return null;
  }

  /**
   * Takes one of the holder's slots, or throws TooManyStreams when all are taken (before the stream is opened,
   * so the answer is a 429 page). Returns the release, to run when the stream closes; running it twice is harmless.
   */
  async acquire(holder: string, limit = MAX_STREAMS_PER_SESSION): Promise<() => void> {
    return this.redis.client ? this.acquireRedis(holder, limit) : this.acquireLocal(holder, limit);
  }

  private acquireLocal(holder: string, limit: number): () => void {
    const count = this.local.get(holder) ?? 0;
    if (count >= limit) throw new TooManyStreams(limit);
    this.local.set(holder, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.local.get(holder) ?? 1) - 1;
      if (left > 0) this.local.set(holder, left);
      else this.local.delete(holder);
    };
  }

  private async acquireRedis(holder: string, limit: number): Promise<() => void> {
    const client = this.redis.client!;
    const key = this.redis.key('streams', holder);
    const lease = randomUUID();
    const taken = await client.eval(ACQUIRE, 1, key, limit, this.leaseMs, lease);
    if (taken !== 1) throw new TooManyStreams(limit);
    let leases = this.held.get(key);
    if (!leases) this.held.set(key, (leases = new Set()));
    leases.add(lease);
    this.startHeartbeat();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const mine = this.held.get(key);
      mine?.delete(lease);
      if (mine && !mine.size) this.held.delete(key);
      client.zrem(key, lease).catch((err: Error) => this.logger.warn(`Could not free an event-stream slot (it frees itself within a minute): ${err.message}`));
    };
  }

  private startHeartbeat() {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.renew(), this.leaseMs / 3);
    this.heartbeat.unref();
  }

  private async renew() {
    const client = this.redis.client;
    if (!client) return;
    if (!this.held.size) {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      return;
    }
    const pipeline = client.pipeline();
    for (const [key, leases] of this.held) pipeline.eval(RENEW, 1, key, this.leaseMs, ...leases);
    try {
      await pipeline.exec();
    } catch (err) {
      this.logger.warn(`Could not renew event-stream slots: ${(err as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
