/**
 * The one HTTP fake framework for the cloud fakes (GCP and AWS): listens on 127.0.0.1 only, records every request
 * exactly as received (for wire-level assertions), and can add latency per call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, URL-decoded once (as the server routes it). */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** The raw body text as it arrived. */
  body: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Delay before each response, in milliseconds; may be changed at any time. */
  latencyMs: number;
  /** Most requests ever being answered at the same time (shows bounded concurrency). */
  readonly peakInFlight: number;
  close(): Promise<void>;
}

export async function startFakeServer(handler: FakeHandler, options: { latencyMs?: number } = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const state = { latencyMs: options.latencyMs ?? 0, inFlight: 0, peakInFlight: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const body = Buffer.concat(chunks).toString('utf8');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
          json: parseJson(body),
        };
        requests.push(recorded);
        state.peakInFlight = Math.max(state.peakInFlight, ++state.inFlight);
        if (state.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, state.latencyMs));
        let response: FakeResponse;
        try {
          response = await handler(recorded);
        } catch (error) {
          response = { status: 500, body: { error: { code: 500, message: `fake server bug: ${String(error)}` } } };
        }
        const text = typeof response.body === 'string' ? response.body : response.body === undefined ? '' : JSON.stringify(response.body);
        const contentType = typeof response.body === 'string' ? 'text/plain' : 'application/json; charset=UTF-8';
        state.inFlight--;
        res.writeHead(response.status, { 'content-type': contentType, ...response.headers });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(value: number) {
      state.latencyMs = value;
    },
    get peakInFlight() {
      return state.peakInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseJson(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
