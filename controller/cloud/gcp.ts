/**
 * The controller's GCP side, with the VM's own identity only: an access token from the metadata
 * server, Secret Manager REST for the named secrets, guest attributes for status (no IAM role
 * needed), and a Compute REST DELETE on its own instance. Plain `fetch`, no SDK: the controller
 * starts fast and needs four calls. Every base URL is injectable; tests point them at loopback
 * fakes. Backstop when self-delete fails: maxRunDuration + instanceTerminationAction DELETE.
 */
import { AgentiumError, AuthError, UsageError } from '../../src/errors.js';
import { classifyGcpError, normaliseGcpError } from '../../src/providers/gcp/errors.js';
import { guestAttributeNamespace, phaseKey } from '../../src/providers/gcp/guest-attributes.js';
import { requestIdFor } from '../../src/providers/gcp/request-id.js';
import { defaultRetryPolicy, withRetry, type RetryPolicy } from '../../src/providers/gcp/retry.js';
import type { ControllerCloud } from './types.js';

export interface GcpControllerOptions {
  /** Metadata server base URL. Default: http://$GCE_METADATA_HOST, else http://metadata.google.internal. */
  metadataUrl?: string;
  /** Compute REST base URL (private endpoints, tests). */
  computeUrl?: string;
  /** Secret Manager REST base URL (private endpoints, tests). */
  secretManagerUrl?: string;
  /** Upper bound for one HTTP request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Upper bound for the whole of terminateSelf, token and metadata reads included. Default 60 s. */
  terminateTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** Our own cap on one guest-attribute value: status text, never logs. */
export const guestAttributeValueLimit = 1024;

interface Identity {
  project: string;
  zone: string;
  name: string;
}

/** An HTTP failure shaped like the client errors, so one classifier serves both. */
class HttpFailure extends Error {
  constructor(
    readonly code: number,
    body: string,
  ) {
    super(body || `HTTP ${code}`);
  }
}

export function createGcpControllerCloud(options: GcpControllerOptions = {}): ControllerCloud {
  const metadataUrl = (options.metadataUrl ?? `http://${process.env.GCE_METADATA_HOST || 'metadata.google.internal'}`).replace(/\/$/, '');
  const computeUrl = (options.computeUrl ?? 'https://compute.googleapis.com').replace(/\/$/, '');
  const secretManagerUrl = (options.secretManagerUrl ?? 'https://secretmanager.googleapis.com').replace(/\/$/, '');
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const terminateTimeoutMs = options.terminateTimeoutMs ?? 60_000;
  const policy: RetryPolicy = { ...defaultRetryPolicy, attempts: 4, maxDelayMs: 4_000, ...options.retry };

  async function request(url: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    const response = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!response.ok) throw new HttpFailure(response.status, await response.text());
    return response;
  }

  /** One metadata value, trimmed: a trailing newline once broke self-delete calls in similar tools. */
  async function metadata(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<string> {
    const response = await withRetry(
      () => request(`${metadataUrl}/computeMetadata/v1/${path}`, { ...init, headers: { 'Metadata-Flavor': 'Google', ...init.headers } }, signal),
      policy,
      signal,
    );
    // Only the real metadata server answers with this header; anything else is not to be trusted.
    if (response.headers.get('metadata-flavor') !== 'Google') throw new AgentiumError('failure', `metadata ${path}: the answer did not come from a metadata server`);
    return (await response.text()).trim();
  }

  let cachedToken: { value: string; expiresAt: number } | undefined;
  async function accessToken(signal?: AbortSignal): Promise<string> {
    if (cachedToken && cachedToken.expiresAt > Date.now() + 60_000) return cachedToken.value;
    let document: { access_token?: string; expires_in?: number };
    try {
      document = JSON.parse(await metadata('instance/service-accounts/default/token', {}, signal)) as typeof document;
    } catch (error) {
      throw new AuthError(`could not get an access token from the metadata server: ${error instanceof Error ? error.message : String(error)}`, {
        hint: 'the instance needs the dedicated service account attached (docs/providers/gcp.md)',
      });
    }
    if (!document.access_token) throw new AuthError('the metadata server returned no access token');
    cachedToken = { value: document.access_token, expiresAt: Date.now() + (document.expires_in ?? 300) * 1000 };
    return cachedToken.value;
  }

  let identity: Promise<Identity> | undefined;
  const self = (signal?: AbortSignal): Promise<Identity> =>
    (identity ??= Promise.all([metadata('project/project-id', {}, signal), metadata('instance/zone', {}, signal), metadata('instance/name', {}, signal)]).then(
      // instance/zone is `projects/<number>/zones/<zone>`.
      ([project, zone, name]) => ({ project, zone: zone.split('/').at(-1) ?? zone, name }),
    )).catch((error: unknown) => {
      identity = undefined;
      throw error;
    });

  /** `name`, `projects/p/secrets/name` or `projects/p/secrets/name/versions/v` → a version resource. */
  async function secretVersion(reference: string): Promise<string> {
    const full = /^projects\/([a-z0-9-]+)\/secrets\/([A-Za-z0-9_-]+)(?:\/versions\/([a-z0-9]+))?$/.exec(reference);
    if (full) return `projects/${full[1]}/secrets/${full[2]}/versions/${full[3] ?? 'latest'}`;
    if (/^[A-Za-z0-9_-]+$/.test(reference)) return `projects/${(await self()).project}/secrets/${reference}/versions/latest`;
    throw new UsageError(`"${reference}" is not a Secret Manager secret name`, { hint: 'use a secret id or projects/<project>/secrets/<id>[/versions/<n>]' });
  }

  return {
    name: 'gcp',

    async readSecret(reference) {
      const version = await secretVersion(reference);
      try {
        const response = await withRetry(async () => {
          const token = await accessToken();
          return request(`${secretManagerUrl}/v1/${version}:access`, { headers: { Authorization: `Bearer ${token}` } });
        }, policy);
        const body = (await response.json()) as { payload?: { data?: string } };
        if (typeof body.payload?.data !== 'string') throw new AgentiumError('failure', `secret ${version} has no payload`);
        return Buffer.from(body.payload.data, 'base64').toString('utf8');
      } catch (error) {
        throw normaliseGcpError(error, `Secret Manager access to ${version}`);
      }
    },

    async reportStatus(phase, detail = {}) {
      const attributes: Array<[string, string]> = [[phaseKey, phase]];
      for (const [key, value] of Object.entries(detail)) {
        // Keys become URL path segments: keep them to the characters guest attributes allow.
        if (key !== phaseKey) attributes.push([key.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64), value]);
      }
      try {
        for (const [key, value] of attributes) {
          await metadata(`instance/guest-attributes/${guestAttributeNamespace}/${key}`, {
            method: 'PUT',
            body: Buffer.from(value, 'utf8').subarray(0, guestAttributeValueLimit).toString('utf8'),
          });
        }
      } catch (error) {
        throw normaliseGcpError(error, 'writing guest attributes');
      }
    },

    async terminateSelf() {
      const signal = AbortSignal.timeout(terminateTimeoutMs);
      try {
        const { project, zone, name } = await self(signal);
        const requestId = requestIdFor('terminate-self', project, zone, name);
        const url = `${computeUrl}/compute/v1/projects/${project}/zones/${zone}/instances/${encodeURIComponent(name)}?requestId=${requestId}`;
        await withRetry(
          async () => request(url, { method: 'DELETE', headers: { Authorization: `Bearer ${await accessToken(signal)}` } }, signal),
          policy,
          signal,
        );
      } catch (error) {
        if (classifyGcpError(error).class === 'not_found') return; // already gone: success
        if (signal.aborted) {
          throw new AgentiumError('failure', `self-deletion did not finish within ${terminateTimeoutMs} ms`, {
            hint: 'the instance maxRunDuration with instanceTerminationAction DELETE is the backstop',
            cause: error,
          });
        }
        throw normaliseGcpError(error, 'deleting this instance');
      }
    },
  };
}
