/**
 * The loopback HTTP base shared by the AWS fakes: binds 127.0.0.1 on a free port, records every
 * request exactly as received, and can add per-call latency (benchmarks use it to make call count
 * visible in wall time).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export type FakeHandler = (request: ReceivedRequest) => FakeReply | Promise<FakeReply>;

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Delay before each reply; a number or a function of the request (e.g. per action). */
  latencyMs?: number | ((request: ReceivedRequest) => number);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLoopbackServer(handler: FakeHandler, options: LoopbackOptions = {}): Promise<LoopbackServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const received: ReceivedRequest = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          body: await readBody(req),
        };
        const latency = typeof options.latencyMs === 'function' ? options.latencyMs(received) : (options.latencyMs ?? 0);
        if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
        const reply = await handler(received);
        res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
        res.end(reply.body);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake server error: ${error instanceof Error ? error.stack : String(error)}`);
      }
    })();
  });
  // Many SDK sockets in parallel (destroy --all): keep-alive stays on, no per-socket cap.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
