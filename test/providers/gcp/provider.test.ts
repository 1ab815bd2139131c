/**
 * GCP provider behaviour on the wire: the real `@google-cloud/compute` client against the fake
 * Compute REST API. Requests are asserted as the fake received them (JSON body, query string).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGcpProvider, computeClientOptions } from '../../../src/providers/gcp/provider.js';
import type { CloudProvider } from '../../../src/providers/types.js';
import { faults, startFakeCompute, type FakeCompute } from '../../fakes/gcp/compute.js';
import { eightZones, failure, fastDeps, gcpTestConfig, seedManaged, seedUnmanaged, testPlan } from './fixtures.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface InsertBody {
  name: string;
  labels: Record<string, string>;
  scheduling: Record<string, unknown>;
  shieldedInstanceConfig: Record<string, unknown>;
  metadata: { items: Array<{ key: string; value: string }> };
  networkInterfaces: Array<Record<string, unknown>>;
  serviceAccounts: Array<{ email: string; scopes: string[] }>;
}

let compute: FakeCompute;
beforeEach(async () => {
  compute = await startFakeCompute();
});
afterEach(async () => {
  await compute.close();
});

async function provider(overrides: Parameters<typeof gcpTestConfig>[1] = {}, deps = fastDeps): Promise<CloudProvider> {
  return createGcpProvider(gcpTestConfig(compute, overrides), deps);
}

const insertZones = () => compute.calls('insert').map((r) => r.path.split('/')[6]);
const insertModels = () => compute.calls('insert').map((r) => (r.json as InsertBody).scheduling.provisioningModel);

describe('the instance request as the fake received it (SECURITY-CHECKLIST 24–28)', () => {
  it('is spot, self-deleting, lifetime-capped, shielded, without external IP or project SSH keys, with the dedicated SA', async () => {
    const gcp = await provider({ session: { lifetime: '3h', spot: true, onDemandFallback: false } });
    const plan = testPlan(gcpTestConfig(compute, { session: { lifetime: '3h', spot: true, onDemandFallback: false } }));
    await gcp.launch(plan);

    const [request] = compute.calls('insert');
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/compute/v1/projects/${compute.project}/zones/us-central1-a/instances`);
    expect(request?.query.requestId).toMatch(uuid);
    // No credentials travel to a plain-http endpoint.
    expect(request?.headers.authorization).toBeUndefined();
    const body = request?.json as InsertBody;

    // 24. scheduling
    expect(body.scheduling).toMatchObject({
      provisioningModel: 'SPOT',
      instanceTerminationAction: 'DELETE',
      maxRunDuration: { seconds: String(3 * 3600) },
      automaticRestart: false,
    });
    // 25. shielded VM
    expect(body.shieldedInstanceConfig).toEqual({ enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
    // 26. metadata: OS Login, no project SSH keys, and nothing secret
    const metadata = Object.fromEntries(body.metadata.items.map((item) => [item.key, item.value]));
    expect(metadata['block-project-ssh-keys']).toBe('TRUE');
    expect(metadata['enable-oslogin']).toBe('TRUE');
    expect(metadata['user-data']).toBe(plan.userData);
    expect(Object.keys(metadata).filter((key) => /ssh-keys$|key|token|secret|password/i.test(key) && key !== 'block-project-ssh-keys')).toEqual([]);
    expect(JSON.stringify(body.metadata)).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY|ghs_|sk-ant-|AIza/);
    // 27. no external IP
    expect(body.networkInterfaces).toHaveLength(1);
    expect(body.networkInterfaces[0]).not.toHaveProperty('accessConfigs');
    // 28. dedicated service account, never the default compute SA
    expect(body.serviceAccounts).toEqual([{ email: `agentium-vm@${compute.project}.iam.gserviceaccount.com`, scopes: ['https://www.googleapis.com/auth/cloud-platform'] }]);
    expect(JSON.stringify(body)).not.toContain('-compute@developer.gserviceaccount.com');
    // Labels the CLI finds it by.
    expect(body.labels).toMatchObject({ 'agentium-managed': 'true', 'agentium-session': plan.spec.id, 'agentium-issue': '42' });
  });

  it('adds an external IP only when gcp.externalIp is true', async () => {
    const gcp = await provider({ gcp: { externalIp: true } });
    await gcp.launch(testPlan(gcpTestConfig(compute)));
    const body = compute.calls('insert')[0]?.json as InsertBody;
    expect(body.networkInterfaces[0]?.accessConfigs).toEqual([{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }]);
  });
});

describe('launch', () => {
  it('tries the next zone on a stockout and deletes what the failed zone half-created', async () => {
    compute.inject({ call: 'insert', zone: 'us-central1-a', fault: faults.capacity(true) });
    compute.inject({ call: 'insert', zone: 'us-central1-b', fault: faults.stockout() });
    const progress: string[] = [];
    const launched = await (await provider()).launch(testPlan(gcpTestConfig(compute)), { onProgress: (m) => progress.push(m) });

    expect(launched).toMatchObject({ location: 'us-central1-c', spot: true });
    expect(insertZones()).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c']);
    // Each zone gets its own request id (a shared one would return zone a's failed operation).
    expect(new Set(compute.calls('insert').map((r) => r.query.requestId)).size).toBe(3);
    expect(compute.calls('delete').map((r) => r.path.split('/')[6])).toEqual(['us-central1-a']);
    expect(compute.instances().map((i) => `${i.zone}/${i.name}`)).toEqual([`us-central1-c/${launched.instance}`]);
    expect(progress.join('\n')).toMatch(/no spot capacity in us-central1-a \(ZONE_RESOURCE_POOL_EXHAUSTED\)/);
  });

  it('treats a quota error on the call itself like a stockout', async () => {
    compute.inject({ call: 'insert', zone: 'us-central1-a', fault: faults.quotaHttp() });
    compute.inject({ call: 'insert', zone: 'us-central1-b', fault: faults.quota() });
    const launched = await (await provider()).launch(testPlan(gcpTestConfig(compute)));
    expect(launched.location).toBe('us-central1-c');
  });

  it('falls back to on-demand when no zone has spot capacity and onDemandFallback is set', async () => {
    compute.inject({ call: 'insert', provisioningModel: 'SPOT', fault: faults.capacity() });
    const session = { lifetime: '2h', spot: true, onDemandFallback: true };
    const launched = await (await provider({ session })).launch(testPlan(gcpTestConfig(compute, { session })));
    expect(launched).toMatchObject({ location: 'us-central1-a', spot: false });
    expect(insertModels()).toEqual(['SPOT', 'SPOT', 'SPOT', 'SPOT', 'STANDARD']);
    expect(compute.instances()).toHaveLength(1);
  });

  it('without the fallback, no capacity anywhere is a CapacityError (exit 5) naming the zones, and nothing is left', async () => {
    compute.inject({ call: 'insert', fault: faults.capacity(true) });
    const error = await failure((await provider()).launch(testPlan(gcpTestConfig(compute))));
    expect(error.exitCode).toBe(5);
    expect(error.message).toBe('no spot capacity for e2-standard-4 in us-central1-a, us-central1-b, us-central1-c, us-central1-f');
    expect(error.hint).toMatch(/onDemandFallback/);
    expect((error.details?.attempts as unknown[]).length).toBe(4);
    expect(compute.instances()).toEqual([]);
  });

  it('surfaces a failed operation with its code and message and the right exit code, without trying other zones', async () => {
    compute.inject({
      call: 'insert',
      fault: faults.operationFailed('RESOURCE_NOT_FOUND', "The resource 'projects/cos-cloud/global/images/family/cos-nope' was not found"),
    });
    const plan = testPlan(gcpTestConfig(compute));
    const error = await failure((await provider()).launch(plan));
    expect(error.message).toBe(
      `creating ${plan.spec.id} in us-central1-a: The resource 'projects/cos-cloud/global/images/family/cos-nope' was not found (RESOURCE_NOT_FOUND)`,
    );
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/gcp section/);
    expect(insertZones()).toEqual(['us-central1-a']);
    expect(compute.instances()).toEqual([]);
  });

  it('a permission error is an AuthError (exit 3)', async () => {
    compute.inject({ call: 'insert', fault: faults.forbidden() });
    const error = await failure((await provider()).launch(testPlan(gcpTestConfig(compute))));
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/compute\.instances\.create/);
  });

  it('retries 429 and 503 with the same request id, then succeeds', async () => {
    compute.inject({ call: 'insert', times: 1, fault: faults.rateLimited() });
    compute.inject({ call: 'insert', times: 1, fault: faults.unavailable() });
    compute.inject({ call: 'wait', times: 1, fault: faults.unavailable() });
    await (await provider()).launch(testPlan(gcpTestConfig(compute)));
    const inserts = compute.calls('insert');
    expect(inserts).toHaveLength(3);
    expect(new Set(inserts.map((r) => r.query.requestId)).size).toBe(1);
    expect(compute.instances()).toHaveLength(1);
  });

  it('gives up after the bounded retries on a persistent 503', async () => {
    compute.inject({ call: 'insert', fault: faults.unavailable() });
    const gcp = await provider({}, { ...fastDeps, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await failure(gcp.launch(testPlan(gcpTestConfig(compute))));
    expect(compute.calls('insert')).toHaveLength(3);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/Backend Error/);
  });

  it('a rerun finds its own instance (409) and succeeds; a foreign instance of that name is an error and is left alone', async () => {
    const config = gcpTestConfig(compute);
    const plan = testPlan(config);
    compute.seedInstance({ zone: 'us-central1-a', name: plan.spec.id, labels: { 'agentium-managed': 'true', 'agentium-session': plan.spec.id } });
    expect((await (await provider()).launch(plan)).location).toBe('us-central1-a');

    const other = testPlan(config);
    compute.seedInstance({ zone: 'us-central1-a', name: other.spec.id, labels: { team: 'web' } });
    const error = await failure((await provider()).launch(other));
    expect(error.message).toMatch(/already exists/);
    expect(compute.instance('us-central1-a', other.spec.id)).toBeDefined();
    expect(compute.calls('delete')).toEqual([]);
  });

  it('cleans up when the launch is cancelled while waiting on the operation (Ctrl-C)', async () => {
    const controller = new AbortController();
    const slowPolls = { ...fastDeps, pollIntervalMs: 200 };
    const error = await (await provider({}, slowPolls))
      .launch(testPlan(gcpTestConfig(compute)), { signal: controller.signal, onProgress: (m) => m.startsWith('creating') && setTimeout(() => controller.abort(), 20) })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^creating agentium-42-\S+ in us-central1-a: .*aborted/);
    // The insert was accepted, then the half-created instance was deleted, and no other zone was tried.
    expect(insertZones()).toEqual(['us-central1-a']);
    expect(compute.calls('delete')).toHaveLength(1);
    expect(compute.instances()).toEqual([]);
  });

  it('waits on the zone operation by its name until DONE', async () => {
    await (await provider()).launch(testPlan(gcpTestConfig(compute)));
    const waits = compute.calls('wait');
    expect(waits).toHaveLength(2); // PENDING → RUNNING → DONE
    expect(waits[0]?.path).toMatch(/\/zones\/us-central1-a\/operations\/operation-[\w-]+\/wait$/);
  });
});

describe('list', () => {
  it('finds managed sessions over all pages and configured zones only, with the phase from guest attributes', async () => {
    await compute.close();
    compute = await startFakeCompute({ zones: [...eightZones, 'asia-east1-a'], pageSize: 7 });
    const ids = seedManaged(compute, 30, eightZones);
    seedManaged(compute, 2, ['asia-east1-a']);
    seedUnmanaged(compute, 10, eightZones);
    compute.instance('us-central1-a', ids[0] ?? '')?.guestAttributes.set('agentium/phase', 'agent-running');

    const { sessions, unreachable } = await (await provider({ gcp: { zones: eightZones } })).list();
    expect(unreachable).toEqual([]);
    expect(sessions.map((s) => s.sessionId).sort()).toEqual([...ids].sort());
    expect(compute.calls('aggregatedList').length).toBeGreaterThanOrEqual(5);
    expect(compute.calls('aggregatedList')[0]?.query).toMatchObject({ filter: 'labels.agentium-managed = "true"', returnPartialSuccess: 'true' });
    expect(sessions.find((s) => s.sessionId === ids[0])).toMatchObject({ phase: 'agent-running', state: 'running', repo: 'acme_widgets', issue: 500 });
    expect(sessions.filter((s) => s.phase === undefined)).toHaveLength(29);
    expect(compute.calls('getGuestAttributes')[0]?.query).toEqual({ queryPath: 'agentium/' });
  });

  it.each(['warning', 'unreachables', 'both'] as const)(
    'returns the configured zones aggregatedList could not reach (reported as %s), and still lists the others',
    async (unreachableReport) => {
      await compute.close();
      compute = await startFakeCompute({ unreachableReport, unreachableZones: ['us-central1-b', 'asia-east1-a'] });
      seedManaged(compute, 4);
      const { sessions, unreachable } = await (await provider()).list();
      expect(sessions).toHaveLength(3);
      expect(sessions.map((s) => s.location)).not.toContain('us-central1-b');
      // asia-east1-a is not in gcp.zones: nothing Agentium launched can be there.
      expect(unreachable).toEqual([{ location: 'us-central1-b', reason: expect.any(String) }]);
    },
  );
});

describe('destroy', () => {
  it("'all' over 8 zones and hundreds of instances: every managed one gone, no unmanaged one touched, bounded concurrency", async () => {
    await compute.close();
    compute = await startFakeCompute({ zones: eightZones, latencyMs: 2 });
    const ids = seedManaged(compute, 320);
    seedUnmanaged(compute, 80);
    const unmanaged = new Set(compute.instances().filter((i) => i.labels['agentium-managed'] !== 'true').map((i) => i.name));

    const results = await (await provider({ gcp: { zones: eightZones } })).destroy('all', { concurrency: 16 });

    expect(results).toHaveLength(320);
    expect(results.every((r) => r.outcome === 'deleted')).toBe(true);
    expect(new Set(results.map((r) => r.location))).toEqual(new Set(eightZones));
    expect(results.map((r) => r.sessionId).sort()).toEqual([...ids].sort());
    expect(compute.instances().filter((i) => i.labels['agentium-managed'] === 'true')).toEqual([]);
    expect(compute.instances().map((i) => i.name).sort()).toEqual([...unmanaged].sort());
    expect(compute.calls('delete').filter((r) => unmanaged.has(r.path.split('/').at(-1) ?? ''))).toEqual([]);
    expect(compute.peakInFlight).toBeLessThanOrEqual(16);
    expect(compute.peakInFlight).toBeGreaterThan(4);
  });

  it('requests every deletion before waiting on any: Compute deletes in parallel server-side', async () => {
    await compute.close();
    compute = await startFakeCompute({ operationMs: 50 });
    seedManaged(compute, 40);
    const results = await (await provider()).destroy('all', { concurrency: 8 });
    expect(results.filter((r) => r.outcome === 'deleted')).toHaveLength(40);
    const kinds = compute.requests.map((r) => (r.method === 'DELETE' ? 'delete' : r.path.endsWith('/wait') ? 'wait' : 'other'));
    expect(kinds.lastIndexOf('delete')).toBeLessThan(kinds.indexOf('wait'));
    expect(compute.instances()).toEqual([]);
  });

  it('is idempotent: an instance gone between list and delete counts as already gone', async () => {
    const [first = '', second = ''] = seedManaged(compute, 2);
    compute.inject({ call: 'delete', instance: first, fault: faults.notFound() });
    const results = await (await provider()).destroy('all');
    expect(Object.fromEntries(results.map((r) => [r.sessionId, r.outcome]))).toEqual({ [first]: 'already-gone', [second]: 'deleted' });
  });

  it('reports a failed delete per instance and carries on with the others', async () => {
    const [first = '', second = ''] = seedManaged(compute, 2);
    compute.inject({ call: 'delete', instance: first, fault: faults.forbidden() });
    const results = await (await provider()).destroy('all');
    expect(results.find((r) => r.sessionId === first)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/permission/) });
    expect(results.find((r) => r.sessionId === second)).toMatchObject({ outcome: 'deleted' });
  });

  it('a delete whose operation failed can be retried by running destroy again: each run sends a new request id', async () => {
    const [id = ''] = seedManaged(compute, 1);
    compute.inject({ call: 'delete', instance: id, times: 1, fault: faults.operationFailed('RESOURCE_IN_USE_BY_ANOTHER_RESOURCE', 'The instance is in use') });
    const gcp = await provider();

    const first = await gcp.destroy([id]);
    expect(first).toEqual([expect.objectContaining({ sessionId: id, outcome: 'failed', error: expect.stringMatching(/in use/) })]);
    // Like Compute: the failed deletion left the instance in place.
    expect(compute.instance('us-central1-a', id)?.status).toBe('RUNNING');

    const second = await gcp.destroy([id]);
    expect(second).toEqual([expect.objectContaining({ sessionId: id, outcome: 'deleted' })]);
    expect(compute.instances()).toEqual([]);
    const [firstId, secondId] = compute.calls('delete').map((r) => r.query.requestId);
    expect(firstId).toMatch(uuid);
    expect(secondId).toMatch(uuid);
    expect(secondId).not.toBe(firstId);
  });

  it('retries within one destroy run reuse its request id, so Compute deletes once', async () => {
    const [id = ''] = seedManaged(compute, 1);
    compute.inject({ call: 'delete', instance: id, times: 2, fault: faults.unavailable() });
    expect(await (await provider()).destroy([id])).toEqual([expect.objectContaining({ sessionId: id, outcome: 'deleted' })]);
    const ids = compute.calls('delete').map((r) => r.query.requestId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('an unreachable zone is a failed result, and a session not found then is not claimed gone', async () => {
    seedManaged(compute, 4);
    compute.unreachableZones.add('us-central1-f');
    const results = await (await provider()).destroy(['agentium-1-missing']);
    expect(results).toEqual([
      expect.objectContaining({ sessionId: 'agentium-1-missing', outcome: 'failed' }),
      expect.objectContaining({ location: 'us-central1-f', outcome: 'failed', error: expect.stringMatching(/unreachable/) }),
    ]);
  });
});

describe('client options', () => {
  it('points the client at gcp.apiEndpoint; plain http sends no credentials, https uses ADC', async () => {
    const base = gcpTestConfig(compute).gcp;
    if (!base) throw new Error('no gcp config');
    const local = await computeClientOptions({ ...base, apiEndpoint: 'http://127.0.0.1:8089' });
    expect(local).toMatchObject({ apiEndpoint: '127.0.0.1', port: 8089, protocol: 'http' });
    expect(local.authClient?.constructor.name).toBe('PassThroughClient');
    const privateEndpoint = await computeClientOptions({ ...base, apiEndpoint: 'https://compute-agentium.p.googleapis.com' });
    expect(privateEndpoint).toEqual({ apiEndpoint: 'compute-agentium.p.googleapis.com', port: 443, protocol: 'https' });
    expect(await computeClientOptions({ ...base, apiEndpoint: undefined })).toEqual({});
  });
});
