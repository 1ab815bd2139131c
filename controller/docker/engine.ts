/**
 * A minimal Docker Engine API client: HTTP over the unix socket with node:http.
 *
 * Why the Engine API and not the docker CLI: the create request is one JSON document built from the
 * agent container plan, so every HostConfig field is set exactly (no flag parsing, no CLI defaults
 * that differ between versions), nothing about the container ever passes through an argv, and we
 * stream the agent's output from an attach socket without a `docker` child process in between. It
 * costs ~150 lines and no dependency (dockerode would add a tree of them for four endpoints).
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentiumError, NotFoundError } from '../../src/errors.js';

/** Oldest Engine API we speak: Docker 20.10. Newer engines are addressed at their own version. */
export const minimumApiVersion = '1.41';

export interface DockerEngine {
  /**
   * Resolves to the parsed JSON body (an array of documents for line-delimited progress bodies;
   * plain text otherwise; undefined when empty); throws DockerApiError on >= 400.
   */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Hijacked connection (`Upgrade: tcp`) for attach; resolves once the engine has upgraded it. */
  upgrade(path: string): Promise<Duplex>;
}

export class DockerApiError extends AgentiumError {
  readonly status: number;
  constructor(status: number, method: string, path: string, message: string) {
    super(status === 404 ? 'not_found' : 'failure', `docker ${method} ${path.split('?')[0]}: ${status} ${message}`, {
      details: { status },
    });
    this.name = 'DockerApiError';
    this.status = status;
  }
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (!host.startsWith('unix://')) {
    throw new NotFoundError(`DOCKER_HOST=${host} is not a unix socket; the agent runtime only talks to a local engine`);
  }
  return host.slice('unix://'.length);
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim();
}

/**
 * One JSON document, or — for progress endpoints such as `POST /images/create` — one per line,
 * returned as an array. Those endpoints answer 200 and report failure in a line with `error`.
 */
function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
  }
}

/**
 * Connects lazily: the first call asks `/_ping` for the engine's API version and addresses every
 * later request at it (engines drop old API versions over time, so a fixed `/v1.41` would break).
 */
export function dockerEngine(socketPath: string = defaultSocketPath()): DockerEngine {
  let prefix: Promise<string> | undefined;

  function raw(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) {
    return httpRequest({
      socketPath,
      method,
      path,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
        ...headers,
      },
    });
  }

  function send(method: string, path: string, body?: string): Promise<{ status: number; text: string; headers: IncomingMessage['headers'] }> {
    return new Promise((resolve, reject) => {
      const req = raw(method, path, body);
      req.on('error', (error) =>
        reject(new AgentiumError('failure', `cannot reach the Docker Engine at ${socketPath}: ${error.message}`, { cause: error })),
      );
      req.on('response', (response) => {
        readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, text, headers: response.headers }), reject);
      });
      req.end(body);
    });
  }

  function apiPrefix(): Promise<string> {
    prefix ??= send('GET', '/_ping').then(({ headers }) => {
      const version = String(headers['api-version'] ?? '');
      if (version === '' || compareVersions(version, minimumApiVersion) < 0) {
        throw new AgentiumError('failure', `Docker Engine API ${version || '(unknown)'} is older than ${minimumApiVersion} (Docker 20.10)`);
      }
      return `/v${version}`;
    });
    prefix.catch(() => (prefix = undefined));
    return prefix;
  }

  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const fullPath = (await apiPrefix()) + path;
      const { status, text, headers } = await send(method, fullPath, body === undefined ? undefined : JSON.stringify(body));
      if (status >= 400) throw new DockerApiError(status, method, path, errorMessage(text));
      const json = String(headers['content-type'] ?? '').startsWith('application/json');
      return (json && text !== '' ? parseJsonBody(text) : text || undefined) as T;
    },

    async upgrade(path: string): Promise<Duplex> {
      const fullPath = (await apiPrefix()) + path;
      return new Promise((resolve, reject) => {
        const req = raw('POST', fullPath, undefined, { Connection: 'Upgrade', Upgrade: 'tcp' });
        req.on('error', reject);
        req.on('upgrade', (_response, socket, head) => {
          if (head.length > 0) socket.unshift(head);
          resolve(socket);
        });
        req.on('response', (response) => {
          readBody(response).then(
            (text) => reject(new DockerApiError(response.statusCode ?? 0, 'POST', path, errorMessage(text))),
            reject,
          );
        });
        req.end();
      });
    },
  };
}

/** True when the engine answers with one of `statuses` (e.g. 404 on cleanup: already gone is done). */
export function isDockerStatus(error: unknown, ...statuses: number[]): boolean {
  return error instanceof DockerApiError && statuses.includes(error.status);
}
