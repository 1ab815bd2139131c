import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { userDataLimitBytes } from '../../cloud-init/render.js';
import { UsageError } from '../../src/errors.js';
import { managedLabel } from '../../src/labels.js';
import { clientTokenFor } from '../../src/providers/aws/request.js';
import { insertRequestId } from '../../src/providers/gcp/request-id.js';
import { planSession } from '../../src/session/plan.js';
import { buildSessionSpec } from '../../src/session/spec.js';
import type { AgentiumConfigInput } from '../../src/config/schema.js';
import { assertValidCloudConfig } from '../support/cloud-init.js';
import { fixedNow, minimalConfigs, parsedConfig } from '../support/config.js';

const inputs = { issue: 123, now: fixedNow, nonce: 'abcd1234' } as const;

function gcpPlan(extra: Partial<AgentiumConfigInput> = {}, gcp: Record<string, unknown> = {}) {
  const config = parsedConfig({ ...minimalConfigs.gcp, ...extra, gcp: { ...minimalConfigs.gcp.gcp, ...gcp } });
  const plan = planSession(config, { ...inputs, provider: 'gcp' });
  if (!plan.request || !('instanceResource' in plan.request)) throw new Error('expected a GCP request');
  return { plan, request: plan.request };
}

function awsPlan(extra: Partial<AgentiumConfigInput> = {}, aws: Record<string, unknown> = {}) {
  const config = parsedConfig({ ...minimalConfigs.aws, ...extra, aws: { ...minimalConfigs.aws.aws, ...aws } });
  const plan = planSession(config, { ...inputs, provider: 'aws' });
  if (!plan.request || !('ImageId' in plan.request)) throw new Error('expected an AWS request');
  return { plan, request: plan.request };
}

describe('session spec', () => {
  it('is a pure function of config and inputs', () => {
    const config = parsedConfig(minimalConfigs.gcp);
    const a = buildSessionSpec(config, { ...inputs, provider: 'gcp' });
    expect(buildSessionSpec(config, { ...inputs, provider: 'gcp' })).toEqual(a);
    expect(a).toMatchObject({
      id: 'agentium-123-abcd1234',
      repo: { owner: 'acme', name: 'widgets', fullName: 'acme/widgets' },
      branch: 'agentium/issue-123',
      createdAt: '2026-11-22T10:00:00.000Z',
      deadline: '2026-11-22T12:00:00.000Z',
      lifetimeSeconds: 7200,
      github: { repositories: ['widgets'], permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } },
      agent: { user: '1000:1000', timeoutSeconds: 5400, limits: { cpus: 2, memoryBytes: 4 * 1024 ** 3, pids: 512 } },
      egress: { allow: ['api.anthropic.com'] },
    });
    // References only: the spec names the secret, it never holds a key.
    expect(a.github.privateKeySecret).toBe('agentium-github-app-key');
  });

  it('never asks for dangerous token permissions (checklist 9)', () => {
    const spec = buildSessionSpec(parsedConfig(minimalConfigs.gcp), { ...inputs, provider: 'gcp' });
    for (const forbidden of ['workflows', 'administration', 'secrets', 'actions']) {
      expect(spec.github.permissions).not.toHaveProperty(forbidden);
    }
  });

  it('refuses lifetimes outside the cloud range and agent timeouts beyond the lifetime', () => {
    const tooLong = parsedConfig({ ...minimalConfigs.aws, session: { lifetime: '8d' } });
    expect(() => buildSessionSpec(tooLong, { ...inputs, provider: 'aws' })).toThrow(/outside what aws allows/);
    expect(() => buildSessionSpec(parsedConfig({ ...minimalConfigs.gcp, session: { lifetime: '8d' } }), { ...inputs, provider: 'gcp' })).not.toThrow();
    expect(() => buildSessionSpec(parsedConfig({ ...minimalConfigs.gcp, session: { lifetime: '121d' } }), { ...inputs, provider: 'gcp' })).toThrow(UsageError);
    expect(() => buildSessionSpec(parsedConfig({ ...minimalConfigs.gcp, session: { lifetime: '2m' } }), { ...inputs, provider: 'gcp' })).toThrow(/outside/);
    const slowAgent = parsedConfig({ ...minimalConfigs.gcp, session: { lifetime: '1h' }, agent: { timeout: '2h' } });
    expect(() => buildSessionSpec(slowAgent, { ...inputs, provider: 'gcp' })).toThrow(/shorter than the session lifetime/);
    expect(() => buildSessionSpec(parsedConfig(minimalConfigs.gcp), { ...inputs, issue: -1, provider: 'gcp' })).toThrow(/positive integer/);
  });
});

describe('GCP insert request (checklist 24-28)', () => {
  it('is spot with a lifetime cap, delete on termination, shielded, without external IP or SSH keys', () => {
    const { request } = gcpPlan();
    expect(request).toMatchObject({ project: 'acme-agents', zone: 'us-central1-a' });
    expect(request.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const instance = request.instanceResource;
    expect(instance.scheduling).toEqual({
      provisioningModel: 'SPOT',
      instanceTerminationAction: 'DELETE',
      maxRunDuration: { seconds: 7200 },
      automaticRestart: false,
      onHostMaintenance: 'TERMINATE',
    });
    expect(instance.shieldedInstanceConfig).toEqual({ enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
    const metadata = Object.fromEntries(instance.metadata.items.map(({ key, value }) => [key, value]));
    expect(metadata['block-project-ssh-keys']).toBe('TRUE');
    expect(metadata['enable-oslogin']).toBe('TRUE');
    expect(instance.networkInterfaces).toEqual([{ network: 'global/networks/default' }]);
    expect(instance.serviceAccounts[0]?.email).toBe('agentium-vm@acme-agents.iam.gserviceaccount.com');
    expect(instance.labels).toEqual({
      [managedLabel]: 'true',
      'agentium-session': 'agentium-123-abcd1234',
      'agentium-repo': 'acme_widgets',
      'agentium-issue': '123',
      'agentium-deadline': String(Date.parse('2026-11-22T12:00:00Z') / 1000),
    });
    expect(instance.disks[0]).toMatchObject({ boot: true, autoDelete: true });
  });

  it('honours on-demand, subnetwork and an explicit external IP', () => {
    const { request } = gcpPlan({ session: { spot: false } }, { subnetwork: 'regions/us-central1/subnetworks/agents', externalIp: true });
    expect(request.instanceResource.scheduling.provisioningModel).toBe('STANDARD');
    expect(request.instanceResource.scheduling.instanceTerminationAction).toBe('DELETE');
    expect(request.instanceResource.networkInterfaces).toEqual([
      { subnetwork: 'regions/us-central1/subnetworks/agents', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] },
    ]);
  });

  it('carries the request id the provider sends on its first attempt, stable per attempt', () => {
    const { plan, request } = gcpPlan();
    expect(request.requestId).toBe(insertRequestId('acme-agents', plan.session.id, 'us-central1-a', true));
    expect(insertRequestId('acme-agents', plan.session.id, 'us-central1-b', true)).not.toBe(request.requestId);
    expect(insertRequestId('acme-agents', plan.session.id, 'us-central1-a', false)).not.toBe(request.requestId);
  });
});

describe('AWS RunInstances input (checklist 29-31)', () => {
  it('is IMDSv2-only with hop limit 1, terminates on shutdown, encrypted, spot one-time, no key pair', () => {
    const { request, plan } = awsPlan();
    expect(request.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
    expect(request.InstanceInitiatedShutdownBehavior).toBe('terminate');
    expect(request).not.toHaveProperty('KeyName');
    expect(request.BlockDeviceMappings.every((mapping) => mapping.Ebs.Encrypted === true)).toBe(true);
    expect(request.InstanceMarketOptions).toEqual({
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
    });
    expect(request.ClientToken).toBe(clientTokenFor(plan.session.id, undefined, true));
    expect(request.ClientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(request.UserData, 'base64').toString('utf8')).toBe(plan.userData);
    expect(request.ImageId).toBe('resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
    const instanceTags = request.TagSpecifications.find((spec) => spec.ResourceType === 'instance')?.Tags ?? [];
    expect(instanceTags).toContainEqual({ Key: managedLabel, Value: 'true' });
    expect(instanceTags).toContainEqual({ Key: 'agentium-repo', Value: 'acme/widgets' });
  });

  it('puts the instance in the first subnet without a public IP, on demand when asked', () => {
    const { request } = awsPlan({ session: { spot: false } }, { subnetIds: ['subnet-0a1b', 'subnet-0c2d'], securityGroupIds: ['sg-01'] });
    expect(request).not.toHaveProperty('InstanceMarketOptions');
    expect(request).toHaveProperty('NetworkInterfaces', [{ DeviceIndex: 0, SubnetId: 'subnet-0a1b', AssociatePublicIpAddress: false, Groups: ['sg-01'] }]);
  });
});

describe('cloud-init user-data', () => {
  const variants = {
    'gcp spot': () => gcpPlan().plan,
    'gcp on-demand, external IP': () => gcpPlan({ session: { spot: false } }, { externalIp: true }).plan,
    'aws spot': () => awsPlan().plan,
    'aws on-demand with subnets': () => awsPlan({ session: { spot: false, lifetime: '7d' }, agent: { timeout: '6d' } }, { subnetIds: ['subnet-0a'] }).plan,
    'local': () => planSession(parsedConfig(minimalConfigs.local), { ...inputs, provider: 'local' }),
    'long values': () =>
      gcpPlan({
        repo: `a-very-long-organisation-name-here/${'r'.repeat(100)}`,
        egress: { allow: Array.from({ length: 40 }, (_, i) => `host-${i}.example.com`) },
        agent: { command: ['sh', '-c', 'echo "quotes" \'and\' $dollars; `backticks`'] },
      }).plan,
  };

  for (const [name, plan] of Object.entries(variants)) {
    it(`passes cloud-init schema and the 16 KB limit: ${name}`, () => {
      const { userData, session } = plan();
      assertValidCloudConfig(userData);
      expect(Buffer.byteLength(userData)).toBeLessThanOrEqual(userDataLimitBytes);
      expect(userData.startsWith('#cloud-config\n')).toBe(true);
      expect(userData).toContain('ssh_pwauth: false');
      expect(userData).toContain(session.controller.image);
      // The controller reads the spec the CLI wrote, byte for byte.
      const embedded = /content: \|\n((?: {6}.*\n)+)/.exec(userData)?.[1]?.replace(/^ {6}/gm, '');
      expect(JSON.parse(embedded ?? '')).toEqual(session);
    });
  }

  it('powers off at the deadline and after the controller exits, on AWS only (GCP deletes via maxRunDuration)', () => {
    expect(awsPlan().plan.userData).toMatch(/- shutdown\n\s+- -P\n\s+- "\+120"/);
    // …and again as soon as the controller exits: runcmd runs the controller, then `shutdown -P now`.
    const runcmd = (userData: string) => (parse(userData) as { runcmd: string[][] }).runcmd;
    const aws = runcmd(awsPlan().plan.userData);
    expect(aws.at(-1)).toEqual(['shutdown', '-P', 'now']);
    expect(aws.at(-2)?.slice(0, 2)).toEqual(['docker', 'run']);
    expect(aws.at(-2)?.at(-1)).toBe('agentium-controller');
    expect(gcpPlan().plan.userData).not.toContain('shutdown');
    expect(runcmd(gcpPlan().plan.userData).at(-1)?.at(-1)).toBe('agentium-controller');
  });
});
