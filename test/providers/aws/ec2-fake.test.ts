/**
 * The EC2 fake, checked with the real SDK client: every response shape must parse (the SDK's XML
 * reader drops elements whose names are wrong, so an empty result would mean a wrong fake).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { startEc2Fake } from '../../fakes/aws/ec2.js';
import type { Ec2Fake } from '../../fakes/aws/ec2.js';
import { testCredentials } from './fixtures.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

let fake: Ec2Fake;
let client: EC2Client;

beforeEach(async () => {
  fake = await startEc2Fake({ accessKeyId: testCredentials.accessKeyId, subnets: { 'subnet-0a': 'us-east-1b' } });
  client = new EC2Client({ region: 'us-east-1', endpoint: fake.url, credentials: testCredentials, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await fake.close();
});

describe('EC2 fake speaks the Query/XML protocol the real SDK expects', () => {
  it('parses RunInstances, DescribeInstances (tags, state, pages), CreateTags and TerminateInstances', async () => {
    const run = await client.send(
      new RunInstancesCommand({
        ImageId: 'ami-0abc',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: 'subnet-0a',
        ClientToken: 'token-1',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'agentium-managed', Value: 'true' }] }],
      }),
    );
    const id = run.Instances?.[0]?.InstanceId ?? '';
    expect(id).toMatch(/^i-[0-9a-f]+$/);
    expect(run.Instances?.[0]?.Placement?.AvailabilityZone).toBe('us-east-1b');
    expect(run.Instances?.[0]?.State?.Name).toBe('pending');

    await client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'agentium-phase', Value: 'cloning & <ok>' }] }));
    const described = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State?.Name).toBe('running');
    expect(instance?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'agentium-managed', Value: 'true' },
        { Key: 'agentium-phase', Value: 'cloning & <ok>' },
      ]),
    );

    for (let n = 0; n < 11; n++) fake.seed({ tags: { 'agentium-managed': 'true' } });
    fake.seed({ tags: { team: 'other' } });
    const ids: string[] = [];
    for await (const page of paginateDescribeInstances(
      { client, pageSize: 5 },
      { Filters: [{ Name: 'tag:agentium-managed', Values: ['true'] }] },
    )) {
      for (const reservation of page.Reservations ?? []) ids.push(...(reservation.Instances ?? []).map((i) => i.InstanceId ?? ''));
    }
    expect(ids).toHaveLength(12);
    expect(fake.callsOf('DescribeInstances').filter((call) => call.params.MaxResults === '5')).toHaveLength(3);

    const terminated = await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(terminated.TerminatingInstances?.[0]).toMatchObject({ InstanceId: id, PreviousState: { Name: 'running' } });
  });

  it('parses DescribeSecurityGroups: ingress and egress rules with every kind of source; an unknown group is InvalidGroup.NotFound', async () => {
    fake.seedSecurityGroup({
      id: 'sg-0a1',
      name: 'open',
      ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 443, cidrs: ['10.0.0.0/8'], ipv6Cidrs: ['::/0'], groupIds: ['sg-0a1'], prefixListIds: ['pl-0f1'] }],
    });
    fake.seedSecurityGroup({ id: 'sg-0b2', name: 'closed' });
    const { SecurityGroups: groups } = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0a1', 'sg-0b2'] }));
    expect(groups?.map((group) => [group.GroupId, group.GroupName, group.VpcId])).toEqual([
      ['sg-0a1', 'open', 'vpc-0fa1ca9559f1892ec'],
      ['sg-0b2', 'closed', 'vpc-0fa1ca9559f1892ec'],
    ]);
    expect(groups?.[0]?.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 443,
        IpRanges: [{ CidrIp: '10.0.0.0/8' }],
        Ipv6Ranges: [{ CidrIpv6: '::/0' }],
        UserIdGroupPairs: [{ UserId: '123456789012', GroupId: 'sg-0a1' }],
        PrefixListIds: [{ PrefixListId: 'pl-0f1' }],
      },
    ]);
    expect(groups?.[1]?.IpPermissions).toEqual([]);
    expect(groups?.[1]?.IpPermissionsEgress).toEqual([
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] },
    ]);
    const missing = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0dead'] })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'InvalidGroup.NotFound', message: "The security group 'sg-0dead' does not exist" });
    const launch = await client
      .send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1, SecurityGroupIds: ['sg-0dead'] }))
      .catch((e: unknown) => e);
    expect(launch).toMatchObject({ name: 'InvalidGroup.NotFound' });
    expect(fake.instances.size).toBe(0);
  });

  it('returns errors the SDK reads as named service exceptions', async () => {
    const error = await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000000000dead'] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidInstanceID.NotFound', message: "The instance ID 'i-0000000000000dead' does not exist" });
    fake.inject({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500 });
    const capacity = await client.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 })).catch((e: unknown) => e);
    expect(capacity).toMatchObject({ name: 'InsufficientInstanceCapacity', $metadata: { httpStatusCode: 500 } });
  });

  it('rejects a signature made with other credentials', async () => {
    const stranger = new EC2Client({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    await expect(stranger.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({ name: 'AuthFailure' });
    stranger.destroy();
  });
});
