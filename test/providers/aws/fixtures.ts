/** Shared setup for the AWS provider tests: static credentials, a config pointing at the fake, a spec. */
import type { AgentiumConfig, AgentiumConfigInput } from '../../../src/config/schema.js';
import { awsTags, managedLabel } from '../../../src/labels.js';
import { createAwsProvider } from '../../../src/providers/aws/provider.js';
import { buildSessionSpec, deadlineSeconds } from '../../../src/session/spec.js';
import type { SessionSpec } from '../../../src/session/spec.js';
import { startEc2Fake } from '../../fakes/aws/ec2.js';
import { parsedConfig } from '../../support/config.js';
import type { ContractFixture } from '../contract.js';

/** The fakes check the key id; nothing here is a real secret. */
export const testCredentials = { accessKeyId: 'AKIDAGENTIUMTEST', secretAccessKey: 'fake-secret-for-loopback-tests' };

export const testSubnets = { 'subnet-0aaa': 'us-east-1a', 'subnet-0bbb': 'us-east-1b', 'subnet-0ccc': 'us-east-1c' };

/** The group `awsTestConfig` names: no inbound rules, EC2's default all-out egress (SECURITY-CHECKLIST 32). */
export const cleanSecurityGroup = { id: 'sg-0123abcd', name: 'agentium-no-ingress' };

export function awsTestConfig(endpoint: string, overrides: Omit<Partial<AgentiumConfigInput>, 'aws'> & { aws?: Partial<NonNullable<AgentiumConfigInput['aws']>> } = {}): AgentiumConfig {
  const { aws, ...rest } = overrides;
  return parsedConfig({
    provider: 'aws',
    repo: 'acme/widgets',
    github: { appId: 12345, privateKeySecret: 'agentium/github-app-key' },
    ...rest,
    aws: { region: 'us-east-1', subnetIds: Object.keys(testSubnets), securityGroupIds: [cleanSecurityGroup.id], endpoint, ...aws },
  });
}

let counter = 0;
export function testSpec(config: AgentiumConfig, issue = 42): SessionSpec {
  counter += 1;
  return buildSessionSpec(config, { provider: 'aws', issue, now: new Date(), nonce: `t${process.pid.toString(36)}${counter}` });
}

/** Fast waiter for the fakes (the SDK's own first delay is 15 s). */
export const fastWaiter = { minDelaySeconds: 0.02, maxDelaySeconds: 0.05, maxWaitSeconds: 5 };

/** The shared provider contract's fixture: the real provider and SDK against a fresh EC2 fake. */
export async function awsContractFixture(): Promise<ContractFixture> {
  const fake = await startEc2Fake({ accessKeyId: testCredentials.accessKeyId, subnets: testSubnets, securityGroups: [cleanSecurityGroup], pendingMs: 20 });
  // Two regions, so one can stop answering while the other still counts.
  const config = awsTestConfig(fake.url, { aws: { regions: ['us-east-1', 'eu-west-1'] } });
  const provider = await createAwsProvider(config, { credentials: testCredentials, waiter: fastWaiter, maxAttempts: 1 });
  const zones = Object.values(testSubnets);
  let seeded = 0;
  const live = (managed: boolean) =>
    [...fake.instances.values()].filter(
      (instance) => (instance.tags.get(managedLabel) === 'true') === managed && !['shutting-down', 'terminated'].includes(fake.stateOf(instance.id)),
    ).length;
  return {
    provider,
    plan: (issue) => ({ spec: testSpec(config, issue), userData: '#cloud-config\n' }),
    seedManaged: async (count) =>
      Array.from({ length: count }, () => {
        seeded += 1;
        const spec = testSpec(config, 200 + seeded);
        fake.seed({
          availabilityZone: zones[seeded % zones.length],
          tags: Object.fromEntries(awsTags({ id: spec.id, repo: spec.repo.fullName, issue: spec.issue, deadline: deadlineSeconds(spec) }).map((tag) => [tag.Key, tag.Value])),
        });
        return spec.id;
      }),
    seedUnmanaged: async (count) => {
      for (let n = 0; n < count; n++) fake.seed({ tags: { Name: `not-ours-${n}` } });
    },
    countManaged: async () => live(true),
    countUnmanaged: async () => live(false),
    makeUnreachable: async () => {
      fake.inject({ action: 'DescribeInstances', code: 'InternalError', status: 500, times: Infinity, match: (_params, region) => region === 'eu-west-1' });
      return 'eu-west-1';
    },
    close: () => fake.close(),
  };
}
