/**
 * The AWS provider with the real `@aws-sdk/client-ec2` client against the EC2 fake. Every
 * assertion about the request is made on what the fake RECEIVED (form-decoded Query parameters),
 * not on the object we meant to send.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { AgentiumError, AuthError, CapacityError, ExitCode, NotFoundError, PolicyError } from '../../../src/errors.js';
import { managedLabel, sessionLabel } from '../../../src/labels.js';
import { loadProvider } from '../../../src/providers/index.js';
import { createAwsProvider } from '../../../src/providers/aws/provider.js';
import type { AwsProviderOptions } from '../../../src/providers/aws/provider.js';
import { phaseTag } from '../../../src/labels.js';
import type { AgentiumConfig } from '../../../src/config/schema.js';
import { indexed, startEc2Fake } from '../../fakes/aws/ec2.js';
import type { Ec2Call, Ec2Fake } from '../../fakes/aws/ec2.js';
import { awsTestConfig, cleanSecurityGroup, fastWaiter, testCredentials, testSpec, testSubnets } from './fixtures.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const userData = '#cloud-config\nruncmd:\n  - echo agentium\n';
let fake: Ec2Fake;

beforeEach(async () => {
  fake = await startEc2Fake({
    accessKeyId: testCredentials.accessKeyId,
    subnets: testSubnets,
    securityGroups: [cleanSecurityGroup],
    pendingMs: 60,
    notFoundDescribesAfterLaunch: 1,
  });
});
afterEach(async () => {
  await fake.close();
});

function provider(config: AgentiumConfig = awsTestConfig(fake.url), options: AwsProviderOptions = {}) {
  return createAwsProvider(config, { credentials: testCredentials, waiter: fastWaiter, ...options });
}

function liveInstances() {
  return [...fake.instances.values()].filter((instance) => fake.stateOf(instance.id) !== 'terminated' && fake.stateOf(instance.id) !== 'shutting-down');
}

const runCalls = () => fake.callsOf('RunInstances');
const lastRun = (): Ec2Call => runCalls().at(-1) as Ec2Call;

describe('launch', () => {
  it('sends a request that meets SECURITY-CHECKLIST 29-31, as the fake received it', async () => {
    const config = awsTestConfig(fake.url);
    const spec = testSpec(config);
    const launched = await (await provider(config)).launch({ spec, userData });

    expect(launched).toMatchObject({ sessionId: spec.id, location: 'us-east-1a', spot: true });
    expect(fake.stateOf(launched.instance)).toBe('running');
    const p = lastRun().params;
    // 29: IMDSv2 only, and the token cannot hop into a container.
    expect(p['MetadataOptions.HttpTokens']).toBe('required');
    expect(p['MetadataOptions.HttpPutResponseHopLimit']).toBe('1');
    expect(p['MetadataOptions.HttpEndpoint']).toBe('enabled');
    // 30: shutdown terminates; no SSH key; every EBS volume encrypted.
    expect(p.InstanceInitiatedShutdownBehavior).toBe('terminate');
    expect(Object.keys(p).filter((key) => /KeyName/i.test(key))).toEqual([]);
    const devices = Object.keys(p).filter((key) => /^BlockDeviceMapping\.\d+\.DeviceName$/.test(key));
    expect(devices.length).toBeGreaterThan(0);
    for (const key of devices) expect(p[key.replace('DeviceName', 'Ebs.Encrypted')]).toBe('true');
    // 31: spot, one-time, terminate on interruption.
    expect(p['InstanceMarketOptions.MarketType']).toBe('spot');
    expect(p['InstanceMarketOptions.SpotOptions.SpotInstanceType']).toBe('one-time');
    expect(p['InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior']).toBe('terminate');
    // Identity, user-data, idempotency, no public IP.
    expect(p['IamInstanceProfile.Name']).toBe('agentium-vm');
    expect(Buffer.from(p.UserData ?? '', 'base64').toString('utf8')).toBe(userData);
    expect(p.ClientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(p['NetworkInterface.1.AssociatePublicIpAddress']).toBe('false');
    expect(indexed(p, 'NetworkInterface.1.SecurityGroupId')).toEqual(['sg-0123abcd']);
    // Tags on the instance and its volume, from src/labels.ts.
    const instanceTags = fake.instances.get(launched.instance)?.tags;
    expect(instanceTags?.get(managedLabel)).toBe('true');
    expect(instanceTags?.get(sessionLabel)).toBe(spec.id);
    const resourceTypes = Object.entries(p).filter(([key]) => /^TagSpecification\.\d+\.ResourceType$/.test(key)).map(([, v]) => v);
    expect(resourceTypes.sort()).toEqual(['instance', 'volume']);
  });

  it('waits through "not found" and pending with the SDK waiter', async () => {
    const launched = await (await provider()).launch({ spec: testSpec(awsTestConfig(fake.url)), userData });
    const describes = fake.callsOf('DescribeInstances').filter((call) => call.params['InstanceId.1'] === launched.instance);
    expect(describes.length).toBeGreaterThanOrEqual(2);
    expect(fake.stateOf(launched.instance)).toBe('running');
  });

  it('is idempotent per session: the same session launched twice is one instance', async () => {
    const config = awsTestConfig(fake.url);
    const spec = testSpec(config);
    const aws = await provider(config);
    const first = await aws.launch({ spec, userData });
    const second = await aws.launch({ spec, userData });
    expect(second.instance).toBe(first.instance);
    expect(fake.instances.size).toBe(1);
    expect(new Set(runCalls().map((call) => call.params.ClientToken)).size).toBe(1);
  });

  it('tries the next subnet when an availability zone has no capacity', async () => {
    fake.inject({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500, times: Infinity, match: (p) => p['NetworkInterface.1.SubnetId'] === 'subnet-0aaa' });
    const progress: string[] = [];
    const launched = await (await provider()).launch({ spec: testSpec(awsTestConfig(fake.url)), userData }, { onProgress: (m) => progress.push(m) });
    expect(launched).toMatchObject({ location: 'us-east-1b', spot: true });
    expect(runCalls().map((call) => call.params['NetworkInterface.1.SubnetId'])).toEqual(['subnet-0aaa', 'subnet-0aaa', 'subnet-0aaa', 'subnet-0bbb']);
    // Each attempt has its own token: reusing one with other parameters is IdempotentParameterMismatch.
    expect(new Set(runCalls().map((call) => call.params.ClientToken)).size).toBe(2);
    expect(progress.join('\n')).toContain('InsufficientInstanceCapacity');
    expect(liveInstances()).toHaveLength(1);
  });

  it('falls back from spot to on-demand when allowed, without trying every subnet on a spot quota', async () => {
    fake.inject({ action: 'RunInstances', code: 'MaxSpotInstanceCountExceeded', times: Infinity, match: (p) => p['InstanceMarketOptions.MarketType'] === 'spot' });
    const config = awsTestConfig(fake.url, { session: { lifetime: '2h', spot: true, onDemandFallback: true } });
    const launched = await (await provider(config)).launch({ spec: testSpec(config), userData });
    expect(launched).toMatchObject({ spot: false, location: 'us-east-1a' });
    expect(runCalls().map((call) => call.params['InstanceMarketOptions.MarketType'] ?? 'on-demand')).toEqual(['spot', 'on-demand']);
    expect(fake.instances.get(launched.instance)?.spot).toBe(false);
  });

  it('reports capacity (exit 5) after every subnet refused, and leaves nothing behind', async () => {
    fake.inject({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500, times: Infinity });
    const error = await (await provider(undefined, { maxAttempts: 1 })).launch({ spec: testSpec(awsTestConfig(fake.url)), userData }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).exitCode).toBe(ExitCode.capacity);
    expect((error as CapacityError).hint).toMatch(/onDemandFallback/);
    expect(runCalls().map((call) => call.params['NetworkInterface.1.SubnetId'])).toEqual(Object.keys(testSubnets));
    expect(liveInstances()).toEqual([]);
  });

  it('retries throttling (RequestLimitExceeded) and succeeds', async () => {
    fake.inject({ action: 'RunInstances', code: 'RequestLimitExceeded', status: 503, times: 2 });
    const launched = await (await provider()).launch({ spec: testSpec(awsTestConfig(fake.url)), userData });
    expect(runCalls()).toHaveLength(3);
    expect(fake.stateOf(launched.instance)).toBe('running');
  });

  it('terminates the instance when it never reaches running (spot reclaimed at once)', async () => {
    const aws = await provider();
    const spec = testSpec(awsTestConfig(fake.url));
    const error = await aws
      .launch(
        { spec, userData },
        {
          onProgress: (message) => {
            const id = /instance (i-[0-9a-f]+) created/.exec(message)?.[1];
            const instance = id ? fake.instances.get(id) : undefined;
            if (instance) instance.pinnedState = 'stopping';
          },
        },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/waiting for instance/);
    expect(liveInstances()).toEqual([]);
    expect(fake.callsOf('TerminateInstances')).toHaveLength(1);
  });

  it('cleans up when the launch is cancelled while waiting (Ctrl-C)', async () => {
    const controller = new AbortController();
    const error = await (await provider(undefined, { waiter: { ...fastWaiter, minDelaySeconds: 0.5, maxDelaySeconds: 1 } }))
      .launch({ spec: testSpec(awsTestConfig(fake.url)), userData }, { signal: controller.signal, onProgress: (m) => m.includes('created') && setTimeout(() => controller.abort(), 20) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(fake.instances.size).toBe(1);
    expect(liveInstances()).toEqual([]);
  });

  it('maps a wrong subnet to NotFoundError and bad credentials to AuthError (exit 3)', async () => {
    const config = awsTestConfig(fake.url, { aws: { subnetIds: ['subnet-0dead'] } });
    await expect((await provider(config)).launch({ spec: testSpec(config), userData })).rejects.toBeInstanceOf(NotFoundError);
    const stranger = await createAwsProvider(config, { credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' }, maxAttempts: 1 });
    const error = await stranger.launch({ spec: testSpec(config), userData }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).exitCode).toBe(ExitCode.auth);
    expect(liveInstances()).toEqual([]);
  });
});

describe('launch: security groups admit nothing in (SECURITY-CHECKLIST 32)', () => {
  it('refuses a group with ingress rules (PolicyError, exit 6), naming the group and its rules, and creates nothing', async () => {
    fake.seedSecurityGroup({
      id: 'sg-0bad1',
      ingress: [
        { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0'], ipv6Cidrs: ['::/0'] },
        { protocol: '-1', groupIds: ['sg-0bad1'] },
      ],
    });
    const config = awsTestConfig(fake.url, { aws: { securityGroupIds: [cleanSecurityGroup.id, 'sg-0bad1'] } });
    const error = await (await provider(config)).launch({ spec: testSpec(config), userData }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).exitCode).toBe(ExitCode.policy);
    const message = (error as PolicyError).message;
    expect(message).toContain('sg-0bad1 has ingress rules (tcp 22 from 0.0.0.0/0, ::/0; all traffic from sg-0bad1)');
    expect(message).not.toContain(cleanSecurityGroup.id);
    expect((error as PolicyError).details).toEqual({
      securityGroups: [{ group: 'sg-0bad1', name: 'sg-0bad1', ingress: ['tcp 22 from 0.0.0.0/0, ::/0', 'all traffic from sg-0bad1'] }],
    });
    // Both groups were read, in one call, as the fake received it; then nothing was created.
    expect(fake.callsOf('DescribeSecurityGroups').map((call) => indexed(call.params, 'GroupId'))).toEqual([[cleanSecurityGroup.id, 'sg-0bad1']]);
    expect(runCalls()).toEqual([]);
    expect(fake.instances.size).toBe(0);
  });

  it('launches when every named group has no ingress rules, reading them before RunInstances', async () => {
    fake.seedSecurityGroup({ id: 'sg-0c1ea2', egress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] }] });
    const config = awsTestConfig(fake.url, { aws: { securityGroupIds: [cleanSecurityGroup.id, 'sg-0c1ea2'] } });
    const launched = await (await provider(config)).launch({ spec: testSpec(config), userData });

    expect(fake.stateOf(launched.instance)).toBe('running');
    const actions = fake.calls.map((call) => call.action);
    expect(actions.indexOf('DescribeSecurityGroups')).toBeGreaterThanOrEqual(0);
    expect(actions.indexOf('DescribeSecurityGroups')).toBeLessThan(actions.indexOf('RunInstances'));
    expect(indexed(lastRun().params, 'NetworkInterface.1.SecurityGroupId')).toEqual([cleanSecurityGroup.id, 'sg-0c1ea2']);
  });

  it('an unknown group is NotFoundError (exit 4) naming aws.securityGroupIds, and nothing is created', async () => {
    const config = awsTestConfig(fake.url, { aws: { securityGroupIds: ['sg-0dead'] } });
    const error = await (await provider(config)).launch({ spec: testSpec(config), userData }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).exitCode).toBe(ExitCode.notFound);
    expect((error as NotFoundError).message).toMatch(/InvalidGroup\.NotFound.*sg-0dead/);
    expect((error as NotFoundError).hint).toMatch(/aws\.securityGroupIds/);
    expect(runCalls()).toEqual([]);
    expect(fake.instances.size).toBe(0);
  });

  it('refuses no group at all (the VPC default group admits its own members), without calling EC2', async () => {
    const config = awsTestConfig(fake.url, { aws: { securityGroupIds: [] } });
    const error = await (await provider(config)).launch({ spec: testSpec(config), userData }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).exitCode).toBe(ExitCode.policy);
    expect(fake.calls).toEqual([]);
  });
});

describe('list', () => {
  it('finds managed, live instances only, across pages, joined with the reported phase', async () => {
    for (let n = 0; n < 1203; n++) fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: `agentium-1-s${n}` } });
    fake.seed({ tags: { Name: 'someone-elses' } });
    fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-2-gone' }, state: 'terminated' });
    const reporting = fake.seed({
      tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-7-abc', 'agentium-repo': 'acme/widgets', 'agentium-issue': '7', 'agentium-deadline': '1800000000', [phaseTag]: 'agent-running' },
    });
    const { sessions } = await (await provider()).list();
    expect(sessions).toHaveLength(1204);
    expect(sessions.find((s) => s.instance === reporting.id)).toEqual({
      sessionId: 'agentium-7-abc',
      instance: reporting.id,
      location: 'us-east-1a',
      state: 'running',
      phase: 'agent-running',
      repo: 'acme/widgets',
      issue: 7,
      deadline: new Date(1_800_000_000_000).toISOString(),
    });
    const describes = fake.callsOf('DescribeInstances');
    expect(describes).toHaveLength(2);
    expect(describes[1]?.params.NextToken).toBeTruthy();
    const filters = describes[0]?.params ?? {};
    expect(filters).toMatchObject({ 'Filter.1.Name': `tag:${managedLabel}`, 'Filter.1.Value.1': 'true', 'Filter.2.Name': 'instance-state-name' });
    expect(indexed(filters, 'Filter.2.Value')).not.toContain('terminated');
  });
});

describe('destroy', () => {
  it('--all terminates hundreds of managed instances in every region, in bounded batches, and nothing else', async () => {
    const regions = ['us-east-1', 'eu-west-1'];
    const managed = regions.flatMap((region) =>
      Array.from({ length: 180 }, (_, n) => fake.seed({ region, tags: { [managedLabel]: 'true', [sessionLabel]: `agentium-9-${region}-${n}` } })),
    );
    const unmanaged = regions.flatMap((region) => [
      fake.seed({ region, tags: { Name: 'production-db' } }),
      fake.seed({ region, tags: { [managedLabel]: 'false' } }),
    ]);
    // The regions come from the config (aws.regions), as a user sets them.
    const aws = await provider(awsTestConfig(fake.url, { aws: { regions } }));
    const results = await aws.destroy('all', { concurrency: 4 });

    expect(results).toHaveLength(360);
    expect(results.every((result) => result.outcome === 'deleted')).toBe(true);
    for (const instance of managed) expect(['shutting-down', 'terminated']).toContain(fake.stateOf(instance.id));
    for (const instance of unmanaged) expect(fake.stateOf(instance.id)).toBe('running');
    const terminates = fake.callsOf('TerminateInstances');
    expect(terminates).toHaveLength(8);
    const terminatedIds = terminates.flatMap((call) => indexed(call.params, 'InstanceId'));
    for (const call of terminates) expect(indexed(call.params, 'InstanceId').length).toBeLessThanOrEqual(50);
    expect(new Set(terminates.map((call) => call.region))).toEqual(new Set(regions));
    expect(terminatedIds.filter((id) => unmanaged.some((instance) => instance.id === id))).toEqual([]);

    // Idempotent: a second run finds nothing left to do and fails nothing.
    expect(await aws.destroy('all')).toEqual([]);
  });

  it('destroys only the named sessions; unknown or already-gone sessions are success', async () => {
    const keep = fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-1-keep' } });
    const drop = fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-1-drop' } });
    const results = await (await provider()).destroy(['agentium-1-drop', 'agentium-1-never']);
    expect(results).toEqual([
      { sessionId: 'agentium-1-drop', instance: drop.id, location: 'us-east-1a', outcome: 'deleted' },
      { sessionId: 'agentium-1-never', instance: '', location: '', outcome: 'already-gone' },
    ]);
    expect(fake.stateOf(keep.id)).toBe('running');
  });

  it('reports an instance already shutting down as already gone', async () => {
    const going = fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-5-going' }, state: 'shutting-down' });
    expect(await (await provider()).destroy(['agentium-5-going'])).toEqual([
      { sessionId: 'agentium-5-going', instance: going.id, location: 'us-east-1a', outcome: 'already-gone' },
    ]);
  });

  it('treats an instance that vanished between describe and terminate as already gone', async () => {
    const seeded = Array.from({ length: 3 }, (_, n) => fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: `agentium-3-${n}` } }));
    const vanished = seeded[1]?.id ?? '';
    fake.inject({ action: 'TerminateInstances', code: 'InvalidInstanceID.NotFound', message: `The instance ID '${vanished}' does not exist` });
    const results = await (await provider()).destroy('all');
    expect(results.find((result) => result.instance === vanished)?.outcome).toBe('already-gone');
    expect(results.filter((result) => result.outcome === 'deleted')).toHaveLength(2);
  });

  it('reports a refused batch as failed without stopping the others', async () => {
    for (let n = 0; n < 120; n++) fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: `agentium-4-${n}` } });
    fake.inject({ action: 'TerminateInstances', code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' });
    const results = await (await provider()).destroy('all', { concurrency: 1 });
    expect(results.filter((result) => result.outcome === 'failed')).toHaveLength(50);
    expect(results.filter((result) => result.outcome === 'deleted')).toHaveLength(70);
    expect(results.find((result) => result.outcome === 'failed')?.error).toMatch(/UnauthorizedOperation/);
  });
});

describe('errors', () => {
  it('a refused connection is "cannot reach the endpoint", not an error code made from the JavaScript error name', async () => {
    // A loopback port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const aws = await provider(awsTestConfig(`http://127.0.0.1:${port}`), { maxAttempts: 1 });
    const error = await aws.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgentiumError);
    expect((error as AgentiumError).message).toMatch(/^EC2 DescribeInstances in us-east-1 failed: cannot reach the endpoint \(ECONNREFUSED\)$/);
    expect((error as AgentiumError).details?.code).toBeUndefined();
    expect((error as AgentiumError).hint).toMatch(/aws.endpoint/);
  });
});

describe('registry', () => {
  it('loads the AWS provider lazily with credentials from the default chain (environment here)', async () => {
    fake.seed({ tags: { [managedLabel]: 'true', [sessionLabel]: 'agentium-8-env' } });
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey });
    try {
      const aws = await loadProvider('aws', awsTestConfig(fake.url));
      expect(aws.name).toBe('aws');
      expect((await aws.list()).sessions.map((session) => session.sessionId)).toEqual(['agentium-8-env']);
    } finally {
      process.env = saved;
    }
  });
});
