/**
 * The CLI as a user runs it (a child process of the built `agentium`), against the fake EC2 API:
 * `run` launches a session instance with the real SDK, `status` finds it, `destroy --all`
 * terminates every managed instance and nothing else (SECURITY-CHECKLIST 34); a security group with
 * ingress rules is refused before anything is created (SECURITY-CHECKLIST 32).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedLabel } from '../../src/labels.js';
import { startEc2Fake, type Ec2Fake } from '../fakes/aws/ec2.js';
import { runCliAsync } from '../support/cli.js';

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
    cwd = mkdtempSync(join(tmpdir(), 'agentium-e2e-aws-'));
    writeFileSync(
      join(cwd, '.agentium.yaml'),
      [
        'provider: aws',
        'repo: acme/widgets',
        'github: { appId: 12345, privateKeySecret: agentium/github-app-key }',
        `aws: { region: us-east-1, subnetIds: [subnet-0a1], securityGroupIds: [sg-0b2], endpoint: "${ec2.url}" }`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => ec2.close());

  const live = () => [...ec2.instances.values()].filter((instance) => !['terminated', 'shutting-down'].includes(ec2.stateOf(instance.id)));
  const managed = () => live().filter((instance) => instance.tags.get(managedLabel) === 'true');

  it('run launches one tagged, IMDSv2-only instance and prints its session id', async () => {
    const result = await runCliAsync(['run', '--issue', '88', '--json'], { cwd, env });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const launched = JSON.parse(result.stdout) as { sessionId: string; instance: string };
    expect(launched.sessionId).toMatch(/^agentium-88-[a-z0-9]{8}$/);
    const runCall = ec2.callsOf('RunInstances')[0];
    expect(runCall?.params['MetadataOptions.HttpTokens']).toBe('required');
    expect(managed().map((instance) => instance.id)).toEqual([launched.instance]);
  });

  it('refuses a real run without a no-ingress security group, creating nothing', async () => {
    const before = ec2.callsOf('RunInstances').length;
    const result = await runCliAsync(['run', '--issue', '89', '--json'], { cwd, env: { ...env, AGENTIUM_AWS_SECURITY_GROUP_IDS: '' } });
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'config', message: expect.stringMatching(/aws.securityGroupIds is empty/) } });
    expect(ec2.callsOf('RunInstances')).toHaveLength(before);
  });

  it('refuses a security group with ingress rules (exit 6), naming the group and rule, creating nothing', async () => {
    const before = ec2.callsOf('RunInstances').length;
    const result = await runCliAsync(['run', '--issue', '90', '--json'], { cwd, env: { ...env, AGENTIUM_AWS_SECURITY_GROUP_IDS: 'sg-0b2,sg-0c3' } });
    expect(result.status, result.stdout + result.stderr).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { kind: 'policy', exitCode: 6, message: expect.stringContaining('sg-0c3 has ingress rules (tcp 22 from 0.0.0.0/0)') },
    });
    expect(ec2.callsOf('DescribeSecurityGroups').at(-1)?.params).toMatchObject({ 'GroupId.1': 'sg-0b2', 'GroupId.2': 'sg-0c3' });
    expect(ec2.callsOf('RunInstances')).toHaveLength(before);
  });

  it('status lists it; destroy --all terminates every managed instance and nothing else', async () => {
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
});
