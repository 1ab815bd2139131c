/**
 * The controller's AWS side, with the VM's own identity only: IMDSv2 (a session token PUT first,
 * every read carries it), the instance-profile role credentials from IMDS, Secrets Manager for the
 * named secrets, tags on its own instance for status, and TerminateInstances on itself.
 * Backstop when this fails: InstanceInitiatedShutdownBehavior=terminate plus an OS shutdown.
 * Every base URL is injectable; tests point them at loopback fakes.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AgentiumError, AuthError } from '../../src/errors.js';
import { isInstanceNotFound, normaliseAwsError } from '../../src/providers/aws/errors.js';
import { phaseDetailTag, phaseTag } from '../../src/labels.js';
import { tagValueLimit } from '../../src/providers/aws/tags.js';
import type { ControllerCloud } from './types.js';

export interface AwsControllerOptions {
  /** IMDS base URL; the real one is the link-local address, reachable from the VM host only. */
  imdsUrl?: string;
  /** EC2 endpoint (private endpoints, tests); default: the SDK's regional endpoint. */
  ec2Endpoint?: string;
  /** Secrets Manager endpoint (private endpoints, tests). */
  secretsManagerEndpoint?: string;
  /** Upper bound for terminateSelf, IMDS reads included. */
  terminateTimeoutMs?: number;
  /** Upper bound for one IMDS request. */
  imdsTimeoutMs?: number;
  /** SDK attempts per call; default 3. */
  maxAttempts?: number;
}

const defaultImdsUrl = 'http://169.254.169.254';

/** The SDK's credential identity shape; `expiration` lets the SDK refresh before it passes. */
interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
const tokenTtlSeconds = 21_600;

/** IMDSv2: one session token (refreshed before it expires or when refused), then token-bearing GETs. */
export function createImdsClient(baseUrl: string, timeoutMs: number) {
  // One token request in flight at a time, shared by concurrent reads.
  let token: Promise<{ value: string; expiresAt: number }> | undefined;

  async function fetchToken(signal?: AbortSignal) {
    const response = await fetch(`${baseUrl}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(tokenTtlSeconds) },
      signal: signal ?? AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new AuthError(`IMDSv2 refused a session token (HTTP ${response.status})`);
    return { value: (await response.text()).trim(), expiresAt: Date.now() + tokenTtlSeconds * 1000 };
  }

  async function sessionToken(signal?: AbortSignal): Promise<string> {
    token ??= fetchToken(signal).catch((error: unknown) => {
      token = undefined;
      throw error;
    });
    const current = await token;
    if (current.expiresAt > Date.now() + 60_000) return current.value;
    token = undefined;
    return sessionToken(signal);
  }

  /** A metadata value, trimmed: a trailing newline once broke self-delete calls in similar tools. */
  async function get(path: string, signal?: AbortSignal): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${baseUrl}${path}`, {
        headers: { 'X-aws-ec2-metadata-token': await sessionToken(signal) },
        signal: signal ?? AbortSignal.timeout(timeoutMs),
      });
      if (response.status === 401 && attempt === 0) {
        token = undefined;
        continue;
      }
      if (!response.ok) throw new AgentiumError('failure', `IMDS ${path} answered HTTP ${response.status}`);
      return (await response.text()).trim();
    }
  }

  /** The instance profile's role credentials (temporary; the SDK refreshes them before expiry). */
  async function roleCredentials(): Promise<RoleCredentials> {
    const base = '/latest/meta-data/iam/security-credentials/';
    const role = (await get(base)).split('\n')[0]?.trim();
    if (!role) throw new AuthError('this instance has no instance profile role', { hint: 'set aws.instanceProfile (docs/providers/aws.md)' });
    const document = JSON.parse(await get(`${base}${role}`)) as Record<string, string | undefined>;
    if (document.Code !== 'Success' || !document.AccessKeyId || !document.SecretAccessKey) {
      throw new AuthError(`IMDS returned no usable credentials for role ${role} (${document.Code ?? 'no code'})`);
    }
    return {
      accessKeyId: document.AccessKeyId,
      secretAccessKey: document.SecretAccessKey,
      ...(document.Token ? { sessionToken: document.Token } : {}),
      ...(document.Expiration ? { expiration: new Date(document.Expiration) } : {}),
    };
  }

  return { get, roleCredentials };
}

/** Region of a Secrets Manager ARN (secrets may live in another region than the VM). */
function regionOfArn(reference: string): string | undefined {
  return /^arn:[^:]+:secretsmanager:([a-z0-9-]+):/.exec(reference)?.[1];
}

export function createAwsControllerCloud(options: AwsControllerOptions = {}): ControllerCloud {
  const imds = createImdsClient(options.imdsUrl ?? defaultImdsUrl, options.imdsTimeoutMs ?? 2_000);
  const terminateTimeoutMs = options.terminateTimeoutMs ?? 30_000;
  const credentials = () => imds.roleCredentials();

  let identity: Promise<{ instanceId: string; region: string }> | undefined;
  const self = () =>
    (identity ??= Promise.all([imds.get('/latest/meta-data/instance-id'), imds.get('/latest/meta-data/placement/region')]).then(
      ([instanceId, region]) => ({ instanceId, region }),
    )).catch((error: unknown) => {
      identity = undefined;
      throw error;
    });

  let ec2: Promise<EC2Client> | undefined;
  const ec2Client = () =>
    (ec2 ??= (async () => {
      const [{ EC2Client: Client }, { region }] = await Promise.all([import('@aws-sdk/client-ec2'), self()]);
      return new Client({
        region,
        credentials,
        maxAttempts: options.maxAttempts ?? 3,
        ...(options.ec2Endpoint ? { endpoint: options.ec2Endpoint } : {}),
      });
    })());

  const secretsClients = new Map<string, Promise<SecretsManagerClient>>();
  const secretsClient = async (region: string) => {
    let client = secretsClients.get(region);
    if (!client) {
      client = import('@aws-sdk/client-secrets-manager').then(
        ({ SecretsManagerClient: Client }) =>
          new Client({
            region,
            credentials,
            maxAttempts: options.maxAttempts ?? 3,
            ...(options.secretsManagerEndpoint ? { endpoint: options.secretsManagerEndpoint } : {}),
          }),
      );
      secretsClients.set(region, client);
    }
    return client;
  };

  return {
    name: 'aws',

    async readSecret(reference) {
      const region = regionOfArn(reference) ?? (await self()).region;
      const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      try {
        const output = await (await secretsClient(region)).send(new GetSecretValueCommand({ SecretId: reference }));
        if (output.SecretString !== undefined) return output.SecretString;
        if (output.SecretBinary !== undefined) return Buffer.from(output.SecretBinary).toString('utf8');
        throw new AgentiumError('failure', `secret ${reference} has no value`);
      } catch (error) {
        throw normaliseAwsError(error, `Secrets Manager GetSecretValue for ${reference}`);
      }
    },

    async reportStatus(phase, detail) {
      const { instanceId } = await self();
      const { CreateTagsCommand } = await import('@aws-sdk/client-ec2');
      const tags = [{ Key: phaseTag, Value: phase.slice(0, tagValueLimit) }];
      if (detail && Object.keys(detail).length > 0) tags.push({ Key: phaseDetailTag, Value: JSON.stringify(detail).slice(0, tagValueLimit) });
      try {
        await (await ec2Client()).send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags }));
      } catch (error) {
        throw normaliseAwsError(error, `EC2 CreateTags on ${instanceId}`);
      }
    },

    async terminateSelf() {
      const signal = AbortSignal.timeout(terminateTimeoutMs);
      const attempt = (async () => {
        const { instanceId } = await self();
        const { TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
        try {
          await (await ec2Client()).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: signal });
        } catch (error) {
          if (isInstanceNotFound(error)) return; // already gone: success
          throw normaliseAwsError(error, `EC2 TerminateInstances on ${instanceId}`);
        }
      })();
      // Losing the race must not leave an unhandled rejection behind.
      attempt.catch(() => undefined);
      // The SDK honours the signal; the race also bounds IMDS and SDK loading.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new AgentiumError('failure', `self-termination did not finish within ${terminateTimeoutMs} ms`, {
            hint: 'the OS shutdown (InstanceInitiatedShutdownBehavior=terminate) is the backstop',
          })),
          terminateTimeoutMs,
        );
      });
      try {
        await Promise.race([attempt, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
