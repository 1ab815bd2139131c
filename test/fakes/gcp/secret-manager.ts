/**
 * A fake Secret Manager REST API (v1): `versions/*:access` with a base64 payload and its CRC32C,
 * bearer-token checked, with per-secret access so "accessor on the named secrets only" can be
 * shown. Works with the real `@google-cloud/secret-manager` client (`fallback: true`) and with
 * the controller's plain REST calls.
 */
import { startFakeServer, type RecordedRequest } from '../http.js';
import { googleError } from './google-error.js';

export interface FakeSecretManagerOptions {
  project?: string;
  /** Secret id → value (served as version 1 and `latest`). */
  secrets?: Record<string, string>;
  /** Bearer token accepted; undefined: any `Authorization` header is accepted, none is refused. */
  token?: string;
  /** Secret ids the caller may read (default: all). */
  readable?: string[];
}

export interface FakeSecretManager {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeSecretManager(options: FakeSecretManagerOptions = {}): Promise<FakeSecretManager> {
  const project = options.project ?? 'agentium-test';
  const secrets = options.secrets ?? {};
  const server = await startFakeServer((request) => {
    const auth = request.headers.authorization;
    if (!auth || (options.token !== undefined && auth !== `Bearer ${options.token}`)) {
      return googleError(401, 'Request had invalid authentication credentials.', 'unauthorized', 'UNAUTHENTICATED');
    }
    const match = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+):access$/.exec(request.path);
    if (!match || request.method !== 'GET') return googleError(404, `no such method ${request.method} ${request.path}`, 'notFound', 'NOT_FOUND');
    const [, projectId = '', secretId = '', version = ''] = match;
    const readable = options.readable === undefined || options.readable.includes(secretId);
    const value = secrets[secretId];
    if (projectId !== project && projectId !== '123456789012') return googleError(403, `Permission denied on project ${projectId}`, 'forbidden', 'PERMISSION_DENIED');
    if (!readable) {
      return googleError(403, `Permission 'secretmanager.versions.access' denied for resource 'projects/${projectId}/secrets/${secretId}/versions/${version}'`, 'forbidden', 'PERMISSION_DENIED');
    }
    if (value === undefined || (version !== 'latest' && version !== '1')) {
      return googleError(404, `Secret [projects/${projectId}/secrets/${secretId}] not found or has no versions.`, 'notFound', 'NOT_FOUND');
    }
    const data = Buffer.from(value, 'utf8');
    return {
      status: 200,
      body: { name: `projects/123456789012/secrets/${secretId}/versions/1`, payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data)) } },
    };
  });
  return { url: server.url, port: server.port, requests: server.requests, close: () => server.close() };
}

/** CRC32C (Castagnoli), as Secret Manager reports it. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
