/**
 * The CLI as a user runs it (a child process of the built `agentium`), against the fake EC2 API:
 * `run` launches a session instance with the real SDK, `status` finds it, `destroy --all`
 * terminates every managed instance and nothing else (SECURITY-CHECKLIST 34); a security group with
 * ingress rules is refused before anything is created (SECURITY-CHECKLIST 32); `destroy --all`
 * sweeps every region of `aws.regions`; Ctrl-C during `run` leaves no instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedLabel } from '../../src/labels.js';
import { startEc2Fake, type Ec2Fake } from '../fakes/aws/ec2.js';
import { runCliAsync } from '../support/cli.js';
import { awsSection, writeConfig } from './configs.js';
import { runCliAndInterrupt } from './interrupted-run.js';

// Each CLI child is killed after 60 s by runCliAsync; children took 5–11 s on a loaded 2-core machine.
const perCli = 60_000;

describe('agentium CLI against the fake EC2', () => {
  let ec2: Ec2Fake;
  let cwd: string;
  // Static test credentials; never probe the instance metadata service for real ones.
  const env = { AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_EC2_METADATA_DISABLED: 'true' };

  beforeAll(async () => {
    // sg-0b2 (the config's group) admits nothing; sg-0c3 has an SSH rule open to the world.
    ec2 = await startEc2Fake({
      subnets: { 'subnet-0a1': 'us-east-1a' },
      securityGroups: [{ id: 'sg-0b2' }, { id: 'sg-0c3', ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0'] }] }],
    });
    cwd = writeConfig('aws', [awsSection(ec2.url)]);
  });
  afterAll(async () => ec2.close());

  const live = () => [...ec2.instances.values()].filter((instance) => !['terminated', 'shutting-down'].includes(ec2.stateOf(instance.id)));
  const managed = () => live().filter((instance) => instance.tags.get(managedLabel) === 'true');

  it('run launches one tagged, IMDSv2-only instance and prints its session id', { timeout: perCli }, async () => {
    const result = await runCliAsync(['run', '--issue', '88', '--json'], { cwd, env });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const launched = JSON.parse(result.stdout) as { sessionId: string; instance: string };
    expect(launched.sessionId).toMatch(/^agentium-88-[a-z0-9]{8}$/);
    const runCall = ec2.callsOf('RunInstances')[0];
    expect(runCall?.params['MetadataOptions.HttpTokens']).toBe('required');
    expect(managed().map((instance) => instance.id)).toEqual([launched.instance]);
  });

  it('refuses a real run without a no-ingress security group, creating nothing', { timeout: perCli }, async () => {
    const before = ec2.callsOf('RunInstances').length;
    const result = await runCliAsync(['run', '--issue', '89', '--json'], { cwd, env: { ...env, AGENTIUM_AWS_SECURITY_GROUP_IDS: '' } });
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'config', message: expect.stringMatching(/aws.securityGroupIds is empty/) } });
    expect(ec2.callsOf('RunInstances')).toHaveLength(before);
  });

  it('refuses a security group with ingress rules (exit 6), naming the group and rule, creating nothing', { timeout: perCli }, async () => {
    const before = ec2.callsOf('RunInstances').length;
    const result = await runCliAsync(['run', '--issue', '90', '--json'], { cwd, env: { ...env, AGENTIUM_AWS_SECURITY_GROUP_IDS: 'sg-0b2,sg-0c3' } });
    expect(result.status, result.stdout + result.stderr).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { kind: 'policy', exitCode: 6, message: expect.stringContaining('sg-0c3 has ingress rules (tcp 22 from 0.0.0.0/0)') },
    });
    expect(ec2.callsOf('DescribeSecurityGroups').at(-1)?.params).toMatchObject({ 'GroupId.1': 'sg-0b2', 'GroupId.2': 'sg-0c3' });
    expect(ec2.callsOf('RunInstances')).toHaveLength(before);
  });

  it('status lists it; destroy --all terminates every managed instance and nothing else', { timeout: 2 * perCli }, async () => {
    for (let index = 0; index < 30; index++) ec2.seed({ tags: { [managedLabel]: 'true', 'agentium-session': `agentium-9${index}-seeded` } });
    for (let index = 0; index < 5; index++) ec2.seed({ tags: { Name: `agentium-lookalike-${index}` } });
    const status = await runCliAsync(['status', '--json'], { cwd, env });
    expect(status.status, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { sessions: unknown[] }).sessions).toHaveLength(31);

    const destroy = await runCliAsync(['destroy', '--all', '--yes', '--json'], { cwd, env });
    expect(destroy.status, destroy.stderr).toBe(0);
    expect((JSON.parse(destroy.stdout) as { summary: { deleted: number; failed: number } }).summary).toMatchObject({ deleted: 31, failed: 0 });
    expect(managed()).toEqual([]);
    expect(live()).toHaveLength(5);
  });

  it('destroy --all sweeps every region of aws.regions from the config, and nothing unmanaged', { timeout: perCli }, async () => {
    const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
    writeConfig('aws', [awsSection(ec2.url, regions)], { cwd, file: 'regions.yaml' });
    const seeded = regions.flatMap((region) => [0, 1].map((n) => ec2.seed({ region, tags: { [managedLabel]: 'true', 'agentium-session': `agentium-7${n}-${region}` } })));
    const bystanders = regions.map((region) => ec2.seed({ region, tags: { Name: 'production-db' } }));

    const destroy = await runCliAsync(['destroy', '--all', '--yes', '--json', '--config', 'regions.yaml'], { cwd, env });
    expect(destroy.status, destroy.stderr).toBe(0);
    expect((JSON.parse(destroy.stdout) as { summary: { deleted: number } }).summary.deleted).toBe(seeded.length);
    for (const instance of seeded) expect(['shutting-down', 'terminated']).toContain(ec2.stateOf(instance.id));
    for (const instance of bystanders) expect(ec2.stateOf(instance.id)).toBe('running');
    expect(new Set(ec2.callsOf('TerminateInstances').map((call) => call.region))).toEqual(new Set(regions));
  });
});

describe('agentium run interrupted against the fake EC2', () => {
  let ec2: Ec2Fake;
  let cwd: string;
  const env = { AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_EC2_METADATA_DISABLED: 'true' };

  beforeAll(async () => {
    // New instances stay pending for a minute: the signal arrives while the CLI waits for running.
    ec2 = await startEc2Fake({ subnets: { 'subnet-0a1': 'us-east-1a' }, securityGroups: [{ id: 'sg-0b2' }], pendingMs: 60_000 });
    cwd = writeConfig('aws', [awsSection(ec2.url)]);
  });
  afterAll(async () => ec2.close());

  it('SIGINT while waiting for the instance terminates it, says so and exits 1', { timeout: perCli }, async () => {
    const result = await runCliAndInterrupt(['run', '--issue', '91', '--json'], { cwd, env, signal: 'SIGINT', when: /instance i-\w+ created, waiting until it is running/ });

    expect(result.stderr).toContain('SIGINT: cancelling session agentium-91-');
    expect(result.status, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'failure', message: expect.stringMatching(/^run interrupted by SIGINT: /), details: { interrupted: 'SIGINT' } } });
    const created = [...ec2.instances.values()];
    expect(created).toHaveLength(1);
    expect(['shutting-down', 'terminated']).toContain(ec2.stateOf(created[0]?.id ?? ''));
  });
});
