import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

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
  headers['cache-control'] = 'no-cache, no-transform';
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
