import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';

/** One request a callback receiver got. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Answer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/**
 * A real HTTP receiver on 127.0.0.1 for outbound calls (back-channel logout, SSF push): records
 * every request and answers what `answer` says (default 200), e.g. 500 the first time.
 */
export interface CallbackReceiver {
  readonly url: string;
  readonly received: Received[];
  /** The requests to `path` so far. */
  at(path: string): Received[];
  /** How to answer a request; `count` is how many `path` has had, this one included. */
  answer(fn: (request: Received, count: number) => Answer): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<CallbackReceiver> {
  const received: Received[] = [];
  let answer: (request: Received, count: number) => Answer = () => ({ status: 200 });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { path: req.url ?? '', headers: req.headers, body };
      received.push(request);
      const count = received.filter((r) => r.path === request.path).length;
      const out = answer(request, count);
      res.writeHead(out.status, { 'cache-control': 'no-store', ...out.headers }).end(out.body ?? '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    at: (path) => received.filter((r) => r.path === path),
    answer(fn) {
      answer = fn;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
