/**
 * A Secrets Manager fake speaking the AWS JSON 1.1 protocol (`X-Amz-Target:
 * secretsmanager.GetSecretValue`, JSON body, `__type` errors). Secrets are found by name or ARN.
 * Each call records the session token it was signed with, so tests can prove the controller used
 * the credentials it got from IMDS.
 */
import { startFakeServer } from '../http.js';
import type { FakeResponse as FakeReply } from '../http.js';
import { credentialScope, headerValue } from './sigv4.js';

export interface SecretsManagerCall {
  target: string;
  body: Record<string, unknown>;
  accessKeyId: string | undefined;
  sessionToken: string | undefined;
  region: string | undefined;
}

export interface SecretsManagerFake {
  url: string;
  calls: SecretsManagerCall[];
  close(): Promise<void>;
}

export async function startSecretsManagerFake(
  secrets: Record<string, string>,
  options: { region?: string; accessKeyId?: string } = {},
): Promise<SecretsManagerFake> {
  const calls: SecretsManagerCall[] = [];
  const region = options.region ?? 'us-east-1';
  const json = (status: number, body: unknown): FakeReply => ({
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body),
  });
  const arnOf = (name: string) => `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`;

  const server = await startFakeServer((request) => {
    const target = headerValue(request.headers, 'x-amz-target') ?? '';
    const scope = credentialScope(request.headers, 'secretsmanager');
    const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
    calls.push({ target, body, accessKeyId: scope?.accessKeyId, sessionToken: headerValue(request.headers, 'x-amz-security-token'), region: scope?.region });
    if (!scope || (options.accessKeyId && scope.accessKeyId !== options.accessKeyId)) {
      return json(400, { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return json(400, { __type: 'UnknownOperationException', message: `unknown operation ${target}` });
    }
    const id = String(body.SecretId ?? '');
    const name = Object.keys(secrets).find((candidate) => candidate === id || arnOf(candidate) === id);
    if (name === undefined) {
      return json(400, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
    }
    return json(200, {
      ARN: arnOf(name),
      Name: name,
      VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      SecretString: secrets[name],
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000.5,
    });
  });
  return { url: server.url, calls, close: server.close };
}
