import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server (Redis here) that a test can cut and restore: the way to take
 * Redis away from one app without stopping the Redis that other tests share.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
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
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
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
