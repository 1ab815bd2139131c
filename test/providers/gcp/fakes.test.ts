/**
 * The fakes speak the real wire protocol: the real SDK clients (Compute over REST, Secret Manager
 * over its REST fallback) work against them unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThroughClient } from 'google-auth-library';
import { faults, startFakeCompute, type FakeCompute } from '../../fakes/gcp/compute.js';
import { startFakeSecretManager, type FakeSecretManager } from '../../fakes/gcp/secret-manager.js';

let compute: FakeCompute;
let secrets: FakeSecretManager;

beforeAll(async () => {
  compute = await startFakeCompute({ pageSize: 3 });
  secrets = await startFakeSecretManager({ secrets: { 'app-key': 'pem-text' }, token: 't0ken' });
});
afterAll(async () => {
  await compute.close();
  await secrets.close();
});

async function computeClients() {
  const { InstancesClient, ZoneOperationsClient } = await import('@google-cloud/compute');
  // google-gax bundles its own google-auth-library copy: same class at run time, other type.
  type Options = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;
  const options: Options = { apiEndpoint: '127.0.0.1', port: compute.port, protocol: 'http', authClient: new PassThroughClient() as unknown as Options['authClient'] };
  return { instances: new InstancesClient(options), operations: new ZoneOperationsClient(options) };
}

describe('fake Compute with the real @google-cloud/compute client', () => {
  it('inserts, moves the operation PENDING → RUNNING → DONE, lists by label over pages, deletes', async () => {
    const { instances, operations } = await computeClients();
    const zone = 'us-central1-b';
    const [op] = await instances.insert({
      project: compute.project,
      zone,
      requestId: '6f1c1e0e-4b0c-4f51-9e1a-2b8f8b7d9a11',
      instanceResource: { name: 'fidelity-1', machineType: `zones/${zone}/machineTypes/e2-small`, labels: { 'agentium-managed': 'true' } },
    });
    const name = op.latestResponse.name as string;
    const seen: string[] = [String((op.latestResponse as unknown as { status: string }).status)];
    for (;;) {
      const [state] = await operations.wait({ project: compute.project, zone, operation: name });
      seen.push(String(state.status));
      if (state.status === 'DONE') break;
    }
    expect(seen).toEqual(['PENDING', 'RUNNING', 'DONE']);
    for (let i = 0; i < 5; i++) compute.seedInstance({ zone: 'us-central1-c', name: `other-${i}`, labels: { 'agentium-managed': 'true' } });
    compute.seedInstance({ zone, name: 'unmanaged' });
    const names: string[] = [];
    for await (const [, scoped] of instances.aggregatedListAsync({ project: compute.project, filter: 'labels.agentium-managed = "true"', maxResults: 3 }, { autoPaginate: false })) {
      for (const instance of scoped.instances ?? []) names.push(String(instance.name));
    }
    expect(names.sort()).toEqual(['fidelity-1', 'other-0', 'other-1', 'other-2', 'other-3', 'other-4']);
    expect(compute.calls('aggregatedList').length).toBe(2);
    await instances.delete({ project: compute.project, zone, instance: 'fidelity-1' });
    await expect(instances.get({ project: compute.project, zone, instance: 'fidelity-1' })).resolves.toBeDefined();
  });

  it('answers injected HTTP faults the way Compute does (HTTP-shaped code, JSON body as message)', async () => {
    const { instances } = await computeClients();
    compute.inject({ call: 'get', times: 1, fault: faults.rateLimited() });
    const error = (await instances.get({ project: compute.project, zone: 'us-central1-a', instance: 'x' }).catch((e: unknown) => e)) as {
      code: number;
      message: string;
    };
    expect(error.code).toBe(429);
    expect(JSON.parse(error.message).error.errors[0].reason).toBe('rateLimitExceeded');
  });
});

describe('fake Secret Manager with the real @google-cloud/secret-manager client', () => {
  it('serves versions/latest:access with a base64 payload', async () => {
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    const { OAuth2Client } = await import('google-auth-library');
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: 't0ken', expiry_date: Date.now() + 3_600_000 });
    type Options = NonNullable<ConstructorParameters<typeof SecretManagerServiceClient>[0]>;
    const client = new SecretManagerServiceClient({
      apiEndpoint: '127.0.0.1',
      port: secrets.port,
      protocol: 'http',
      fallback: true,
      authClient: auth as unknown as Options['authClient'],
    });
    const [version] = await client.accessSecretVersion({ name: 'projects/agentium-test/secrets/app-key/versions/latest' });
    expect(Buffer.from(version.payload?.data as Uint8Array).toString('utf8')).toBe('pem-text');
    expect(secrets.requests.at(-1)?.headers.authorization).toBe('Bearer t0ken');
  });
});
