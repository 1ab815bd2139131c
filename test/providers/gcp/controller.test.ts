/**
 * The controller's GCP cloud against the fake metadata server, Secret Manager and Compute: the
 * token comes from metadata, values are trimmed, status lands as guest attributes that the CLI's
 * `list` reads, and self-deletion is a bounded, idempotent Compute DELETE.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGcpControllerCloud } from '../../../controller/cloud/gcp.js';
import { gcpLabels } from '../../../src/labels.js';
import { createGcpProvider } from '../../../src/providers/gcp/provider.js';
import { startFakeCompute, type FakeCompute } from '../../fakes/gcp/compute.js';
import { startFakeMetadata, type FakeMetadata } from '../../fakes/gcp/metadata.js';
import { startFakeSecretManager, type FakeSecretManager } from '../../fakes/gcp/secret-manager.js';
import { failure, fastDeps, gcpTestConfig } from './fixtures.js';

const name = 'agentium-42-ctl1';
const zone = 'us-central1-b';
let compute: FakeCompute;
let metadata: FakeMetadata;
let secrets: FakeSecretManager;

beforeEach(async () => {
  compute = await startFakeCompute();
  metadata = await startFakeMetadata({ zone, instanceName: name, compute });
  secrets = await startFakeSecretManager({
    token: metadata.token,
    secrets: { 'agentium-github-app-key': '-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n', 'other-team-secret': 'x' },
    // agentium-llm-key may be read but was never created.
    readable: ['agentium-github-app-key', 'agentium-llm-key'],
  });
  compute.seedInstance({ zone, name, labels: gcpLabels({ id: name, repo: 'acme/widgets', issue: 42, deadline: 2_000_000_000 }) });
});
afterEach(async () => {
  await Promise.all([compute.close(), metadata.close(), secrets.close()]);
});

const cloud = (overrides: Parameters<typeof createGcpControllerCloud>[0] = {}) =>
  createGcpControllerCloud({
    metadataUrl: metadata.url,
    computeUrl: compute.url,
    secretManagerUrl: secrets.url,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...overrides,
  });

describe('readSecret', () => {
  it('reads the named secret with the metadata token; project trimmed of its trailing newline', async () => {
    const value = await cloud().readSecret('agentium-github-app-key');
    expect(value).toContain('BEGIN PRIVATE KEY');
    const [access] = secrets.requests;
    expect(access?.path).toBe('/v1/projects/agentium-test/secrets/agentium-github-app-key/versions/latest:access');
    expect(access?.headers.authorization).toBe(`Bearer ${metadata.token}`);
    expect(metadata.requests.every((r) => r.headers['metadata-flavor'] === 'Google')).toBe(true);
  });

  it('accepts full resource names, with or without a version', async () => {
    const controller = cloud();
    await controller.readSecret('projects/agentium-test/secrets/agentium-github-app-key');
    await controller.readSecret('projects/agentium-test/secrets/agentium-github-app-key/versions/1');
    expect(secrets.requests.map((r) => r.path.split('/').slice(-2).join('/'))).toEqual(['versions/latest:access', 'versions/1:access']);
    // The token is cached: one metadata token request for both reads.
    expect(metadata.requests.filter((r) => r.path.endsWith('/token'))).toHaveLength(1);
  });

  it('a secret it may not read is an AuthError (exit 3); a missing one NotFoundError (exit 4); a value is refused as a name', async () => {
    expect((await failure(cloud().readSecret('other-team-secret'))).exitCode).toBe(3);
    expect((await failure(cloud().readSecret('projects/agentium-test/secrets/agentium-llm-key'))).exitCode).toBe(4);
    expect((await failure(cloud().readSecret('sk-ant-api03 looks like a value'))).exitCode).toBe(2);
  });
});

describe('reportStatus', () => {
  it('writes guest attributes under agentium/ that the CLI list joins as the phase', async () => {
    await cloud().reportStatus('agent-running', { 'pr url': 'https://github.com/acme/widgets/pull/7' });
    expect(metadata.guestAttributes).toEqual(
      new Map([
        ['agentium/phase', 'agent-running'],
        ['agentium/pr_url', 'https://github.com/acme/widgets/pull/7'],
      ]),
    );
    expect(metadata.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([
      '/computeMetadata/v1/instance/guest-attributes/agentium/phase',
      '/computeMetadata/v1/instance/guest-attributes/agentium/pr_url',
    ]);
    // No IAM role needed: nothing but the metadata server was called.
    expect(compute.requests).toEqual([]);
    expect(secrets.requests).toEqual([]);

    const provider = await createGcpProvider(gcpTestConfig(compute), fastDeps);
    expect((await provider.list()).sessions).toEqual([expect.objectContaining({ sessionId: name, phase: 'agent-running', location: zone })]);
  });
});

describe('terminateSelf', () => {
  it('deletes its own instance with the metadata token, names trimmed; again is a no-op', async () => {
    await cloud().terminateSelf();
    const [request] = compute.calls('delete');
    expect(request?.path).toBe(`/compute/v1/projects/agentium-test/zones/${zone}/instances/${name}`);
    expect(request?.query.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers.authorization).toBe(`Bearer ${metadata.token}`);
    expect(compute.instance(zone, name)?.status).toBe('STOPPING');

    await compute.close();
    compute = await startFakeCompute();
    await expect(cloud().terminateSelf()).resolves.toBeUndefined(); // 404: already gone
  });

  it('is bounded by its own timeout and says what the backstop is', async () => {
    compute.latencyMs = 5_000;
    const started = Date.now();
    const error = await failure(cloud({ terminateTimeoutMs: 300 }).terminateSelf());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toMatch(/did not finish within 300 ms/);
    expect(error.hint).toMatch(/maxRunDuration/);
  });
});
