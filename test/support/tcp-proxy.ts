import { createConnection, createServer, Server, Socket } from 'node:net';

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;

/**
 * A TCP proxy in front of a real server (Redis, MariaDB, SMTP) that a test can cut and restore: the way to take a
 * server away from one app, or from its worker processes alone, without stopping the server other tests share.
 * `url` is redis:// unless another scheme is given; `via(url)` points any URL of the real server at the proxy.
 */
export async function startTcpProxy(target: { host: string; port: number }, scheme = 'redis') {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = createConnection(target);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        // One side closing closes the other, as a real connection does.
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `${scheme}://127.0.0.1:${port}`;
    },
    /** The same URL (credentials, database, everything) with its host and port replaced by this proxy's. */
    via(url: string): string {
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      return through.toString();
    },
    /** Drops every connection and refuses new ones, like a stopped server. */
    async cut() {
      const closed = new Promise((resolve) => server!.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
    /** Accepts connections again on the same port. */
    restore: listen,
    async close() {
      const closed = new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined)));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A proxy in front of the server a URL names (mysql://…, redis://…); its `url` is that URL through the proxy. */
export async function startTcpProxyFor(url: string) {
  const real = new URL(url);
  const defaults: Record<string, number> = { 'mysql:': 3306, 'mariadb:': 3306, 'redis:': 6379, 'smtp:': 25 };
  const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || defaults[real.protocol]) }, real.protocol.replace(':', ''));
  // The port stays the same across cut and restore, so the URL does too.
  return { port: proxy.port, url: proxy.via(url), via: proxy.via, cut: proxy.cut, restore: proxy.restore, close: proxy.close };
}
