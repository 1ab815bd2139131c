/** Shared setup for the GCP provider tests: a config pointing at the fake Compute, plans, seeding. */
import { expect } from 'vitest';
import type { AgentiumConfig, AgentiumConfigInput } from '../../../src/config/schema.js';
import { AgentiumError } from '../../../src/errors.js';
import { gcpLabels } from '../../../src/labels.js';
import { createGcpProvider, type GcpProviderDeps } from '../../../src/providers/gcp/provider.js';
import type { LaunchPlan } from '../../../src/providers/types.js';
import { buildSessionSpec } from '../../../src/session/spec.js';
import { startFakeCompute, type FakeCompute, type FakeComputeOptions } from '../../fakes/gcp/compute.js';
import { parsedConfig } from '../../support/config.js';
import type { ContractFixture } from '../contract.js';

// Belt and braces: should anything fall back to Application Default Credentials, it must not
// probe the real metadata server. Every test here passes credentials explicitly anyway.
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.GCE_METADATA_HOST = '127.0.0.1:9';

export const eightZones = [
  'us-central1-a',
  'us-central1-b',
  'us-central1-c',
  'us-central1-f',
  'us-east1-b',
  'us-east1-c',
  'europe-west1-b',
  'europe-west1-c',
];

/** Tests wait for nothing: tiny retry backoff, no pause between operation polls. */
export const fastDeps: GcpProviderDeps = { credentials: 'none', retry: { baseDelayMs: 1, maxDelayMs: 4 }, pollIntervalMs: 0 };

type GcpInput = Partial<NonNullable<AgentiumConfigInput['gcp']>>;

export function gcpTestConfig(compute: FakeCompute, overrides: Omit<Partial<AgentiumConfigInput>, 'gcp'> & { gcp?: GcpInput } = {}): AgentiumConfig {
  const { gcp, ...rest } = overrides;
  return parsedConfig({
    provider: 'gcp',
    repo: 'acme/widgets',
    github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' },
    agent: { llmKeySecret: 'agentium-llm-key' },
    ...rest,
    gcp: { project: compute.project, zones: compute.zones, apiEndpoint: compute.url, ...gcp },
  });
}

let counter = 0;
export function testPlan(config: AgentiumConfig, issue = 42): LaunchPlan {
  counter += 1;
  const spec = buildSessionSpec(config, { provider: 'gcp', issue, now: new Date(), nonce: `t${process.pid.toString(36)}${counter}` });
  return { spec, userData: `#cloud-config\n# session ${spec.id}\n` };
}

/** Managed instances created directly in the fake, round-robin over its zones. */
export function seedManaged(compute: FakeCompute, count: number, zones = compute.zones): string[] {
  const deadline = Math.floor(Date.now() / 1000) + 3600;
  return Array.from({ length: count }, (_, index) => {
    counter += 1;
    const id = `agentium-${500 + index}-seed${counter}`;
    compute.seedInstance({ zone: zones[index % zones.length] ?? '', name: id, labels: gcpLabels({ id, repo: 'acme/widgets', issue: 500 + index, deadline }) });
    return id;
  });
}

/** Unmanaged look-alikes: same zones, similar names, other labels (and no managed label). */
export function seedUnmanaged(compute: FakeCompute, count: number, zones = compute.zones): void {
  for (let index = 0; index < count; index++) {
    counter += 1;
    compute.seedInstance({
      zone: zones[index % zones.length] ?? '',
      name: `agentium-unmanaged-${counter}`,
      labels: index % 2 ? { team: 'web' } : { 'agentium-managed': 'false', 'agentium-session': `agentium-unmanaged-${counter}` },
    });
  }
}

/** The AgentiumError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function failure(promise: Promise<unknown>): Promise<AgentiumError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentiumError);
  return error as AgentiumError;
}

const isManaged = (labels: Record<string, string>) => labels['agentium-managed'] === 'true';

export async function gcpContractFixture(options: FakeComputeOptions = {}): Promise<ContractFixture & { compute: FakeCompute }> {
  const compute = await startFakeCompute(options);
  const config = gcpTestConfig(compute);
  const provider = await createGcpProvider(config, fastDeps);
  return {
    compute,
    provider,
    plan: (issue) => testPlan(config, issue),
    seedManaged: async (count) => seedManaged(compute, count),
    seedUnmanaged: async (count) => seedUnmanaged(compute, count),
    countManaged: async () => compute.instances().filter((i) => isManaged(i.labels)).length,
    countUnmanaged: async () => compute.instances().filter((i) => !isManaged(i.labels)).length,
    makeUnreachable: async () => {
      const zone = compute.zones.at(-1) ?? '';
      compute.unreachableZones.add(zone);
      return zone;
    },
    close: () => compute.close(),
  };
}
