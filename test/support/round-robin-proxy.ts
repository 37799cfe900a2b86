import { createServer, request as httpRequest } from 'node:http';

export interface RoundRobinProxy {
  /** Where clients send requests (the academy's PUBLIC_URL). */
  url: string;
  /** How many requests each backend was sent, in the order the backends were given. */
  counts: number[];
  /** Every request in the order it came: which backend (index) it went to. */
  served: Array<{ backend: number; method: string; path: string }>;
  close(): Promise<void>;
}

/**
 * A load balancer as small as one can be: every request goes to the next backend in turn, streamed both ways with
 * its method, path and headers unchanged (the Host header stays the proxy's, as behind a real one). A backend that
 * does not answer gets the client a 502, like a real one would give.
 */
export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  const targets = backends.map((backend) => new URL(backend));
  const counts = targets.map(() => 0);
  const served: RoundRobinProxy['served'] = [];
  let next = 0;
  const server = createServer((incoming, outgoing) => {
    const index = next;
    next = (next + 1) % targets.length;
    counts[index]++;
    served.push({ backend: index, method: incoming.method ?? 'GET', path: incoming.url ?? '/' });
    const target = targets[index];
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (err) => {
      if (outgoing.headersSent) outgoing.destroy(err);
      else outgoing.writeHead(502, { 'content-type': 'text/plain' }).end(`Backend ${target.origin} did not answer: ${err.message}`);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
