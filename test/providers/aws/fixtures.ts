/** Shared setup for the AWS provider tests: static credentials, a config pointing at the fake, a spec. */
import type { AgentiumConfig, AgentiumConfigInput } from '../../../src/config/schema.js';
import { buildSessionSpec } from '../../../src/session/spec.js';
import type { SessionSpec } from '../../../src/session/spec.js';
import { parsedConfig } from '../../support/config.js';

/** The fakes check the key id; nothing here is a real secret. */
export const testCredentials = { accessKeyId: 'AKIDAGENTIUMTEST', secretAccessKey: 'fake-secret-for-loopback-tests' };

export const testSubnets = { 'subnet-0aaa': 'us-east-1a', 'subnet-0bbb': 'us-east-1b', 'subnet-0ccc': 'us-east-1c' };

export function awsTestConfig(endpoint: string, overrides: Omit<Partial<AgentiumConfigInput>, 'aws'> & { aws?: Partial<NonNullable<AgentiumConfigInput['aws']>> } = {}): AgentiumConfig {
  const { aws, ...rest } = overrides;
  return parsedConfig({
    provider: 'aws',
    repo: 'acme/widgets',
    github: { appId: 12345, privateKeySecret: 'agentium/github-app-key' },
    ...rest,
    aws: { region: 'us-east-1', subnetIds: Object.keys(testSubnets), securityGroupIds: ['sg-0123abcd'], endpoint, ...aws },
  });
}

let counter = 0;
export function testSpec(config: AgentiumConfig, issue = 42): SessionSpec {
  counter += 1;
  return buildSessionSpec(config, { provider: 'aws', issue, now: new Date(), nonce: `t${process.pid.toString(36)}${counter}` });
}

/** Fast waiter for the fakes (the SDK's own first delay is 15 s). */
export const fastWaiter = { minDelaySeconds: 0.02, maxDelaySeconds: 0.05, maxWaitSeconds: 5 };
