/**
 * An IMDSv2 fake: a session token must be obtained with `PUT /latest/api/token` (TTL header
 * required, forwarded requests refused, like the real service) and every GET must carry it in
 * `X-aws-ec2-metadata-token`, otherwise 401. Values end with a newline on purpose: real metadata
 * values read with a trailing newline broke self-delete calls in similar tools.
 */
import { randomBytes } from 'node:crypto';
import { startFakeServer } from '../http.js';
import type { FakeResponse as FakeReply, RecordedRequest as ReceivedRequest } from '../http.js';
import { headerValue } from './sigv4.js';

export interface ImdsFakeOptions {
  instanceId?: string;
  region?: string;
  role?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration?: Date };
}

export interface ImdsFake {
  url: string;
  requests: ReceivedRequest[];
  /** Tokens issued so far. */
  tokens: string[];
  close(): Promise<void>;
}

export async function startImdsFake(options: ImdsFakeOptions = {}): Promise<ImdsFake> {
  const tokens = new Map<string, number>();
  const role = options.role ?? 'agentium-vm';
  const credentials = options.credentials ?? {
    accessKeyId: 'ASIAFAKEIMDSROLE',
    secretAccessKey: 'fake-imds-secret',
    sessionToken: 'fake-imds-session-token',
  };
  const values: Record<string, string> = {
    '/latest/meta-data/instance-id': `${options.instanceId ?? 'i-0123456789abcdef0'}\n`,
    '/latest/meta-data/placement/region': `${options.region ?? 'us-east-1'}\n`,
    '/latest/meta-data/iam/security-credentials/': `${role}\n`,
    [`/latest/meta-data/iam/security-credentials/${role}`]: JSON.stringify({
      Code: 'Success',
      LastUpdated: new Date().toISOString(),
      Type: 'AWS-HMAC',
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      Expiration: (credentials.expiration ?? new Date(Date.now() + 6 * 3600_000)).toISOString(),
    }),
  };
  const text = (status: number, body: string): FakeReply => ({ status, headers: { 'content-type': 'text/plain' }, body });

  const server = await startFakeServer((request) => {
    if (request.path === '/latest/api/token') {
      if (request.method !== 'PUT') return text(405, 'Method Not Allowed');
      if (headerValue(request.headers, 'x-forwarded-for')) return text(403, 'Forbidden');
      const ttl = Number(headerValue(request.headers, 'x-aws-ec2-metadata-token-ttl-seconds'));
      if (!(Number.isInteger(ttl) && ttl >= 1 && ttl <= 21_600)) return text(400, 'Bad Request');
      const token = randomBytes(32).toString('base64');
      tokens.set(token, Date.now() + ttl * 1000);
      return text(200, token);
    }
    const token = headerValue(request.headers, 'x-aws-ec2-metadata-token');
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (expiresAt === undefined || expiresAt < Date.now()) return text(401, 'Unauthorized');
    if (request.method !== 'GET') return text(405, 'Method Not Allowed');
    const value = values[request.path];
    return value === undefined ? text(404, 'Not Found') : text(200, value);
  });
  return { url: server.url, requests: server.requests, get tokens() { return [...tokens.keys()]; }, close: server.close };
}
