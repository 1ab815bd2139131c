/**
 * The controller's AWS cloud against the IMDSv2, Secrets Manager and EC2 fakes, with the real SDK
 * clients. The credentials the controller signs with must be the ones IMDS handed out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsControllerCloud } from '../../../controller/cloud/aws.js';
import { AgentiumError, NotFoundError } from '../../../src/errors.js';
import { createAwsProvider } from '../../../src/providers/aws/provider.js';
import { phaseDetailTag, phaseTag } from '../../../src/labels.js';
import { startEc2Fake } from '../../fakes/aws/ec2.js';
import type { Ec2Fake } from '../../fakes/aws/ec2.js';
import { startImdsFake } from '../../fakes/aws/imds.js';
import type { ImdsFake } from '../../fakes/aws/imds.js';
import { startSecretsManagerFake } from '../../fakes/aws/secrets-manager.js';
import type { SecretsManagerFake } from '../../fakes/aws/secrets-manager.js';
import { headerValue } from '../../fakes/aws/sigv4.js';
import { awsTestConfig, cleanSecurityGroup, fastWaiter, testCredentials, testSpec, testSubnets } from './fixtures.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const roleCredentials = { accessKeyId: 'ASIAROLEFROMIMDS', secretAccessKey: 'role-secret', sessionToken: 'role-session-token-123' };
let ec2: Ec2Fake;
let imds: ImdsFake;
let secrets: SecretsManagerFake;
let instanceId: string;

beforeEach(async () => {
  ec2 = await startEc2Fake({ subnets: testSubnets, securityGroups: [cleanSecurityGroup] });
  // The controller's own instance, launched by the real CLI provider.
  const config = awsTestConfig(ec2.url);
  const provider = await createAwsProvider(config, { credentials: testCredentials, waiter: fastWaiter });
  instanceId = (await provider.launch({ spec: testSpec(config), userData: '#cloud-config\n' })).instance;
  imds = await startImdsFake({ instanceId, region: 'us-east-1', credentials: roleCredentials });
  secrets = await startSecretsManagerFake({ 'agentium/github-app-key': '-----BEGIN PRIVATE KEY-----fake', 'agentium/llm-key': 'sk-ant-fake' });
});
afterEach(async () => {
  await Promise.all([ec2.close(), imds.close(), secrets.close()]);
});

function cloud(overrides: Parameters<typeof createAwsControllerCloud>[0] = {}) {
  return createAwsControllerCloud({ imdsUrl: imds.url, ec2Endpoint: ec2.url, secretsManagerEndpoint: secrets.url, ...overrides });
}

describe('IMDSv2', () => {
  it('the fake refuses metadata reads without a session token', async () => {
    const response = await fetch(`${imds.url}/latest/meta-data/instance-id`);
    expect(response.status).toBe(401);
    const noTtl = await fetch(`${imds.url}/latest/api/token`, { method: 'PUT' });
    expect(noTtl.status).toBe(400);
  });

  it('the controller PUTs for a token first and sends it on every read', async () => {
    await cloud().reportStatus('starting');
    const [first, ...reads] = imds.requests;
    expect(first).toMatchObject({ method: 'PUT', path: '/latest/api/token' });
    expect(headerValue(first?.headers ?? {}, 'x-aws-ec2-metadata-token-ttl-seconds')).toMatch(/^\d+$/);
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) {
      expect(read.method).toBe('GET');
      expect(imds.tokens).toContain(headerValue(read.headers, 'x-aws-ec2-metadata-token'));
    }
  });
});

describe('readSecret', () => {
  it('reads a named secret with the role credentials from IMDS', async () => {
    expect(await cloud().readSecret('agentium/llm-key')).toBe('sk-ant-fake');
    const [call] = secrets.calls;
    expect(call).toMatchObject({
      target: 'secretsmanager.GetSecretValue',
      body: { SecretId: 'agentium/llm-key' },
      accessKeyId: roleCredentials.accessKeyId,
      sessionToken: roleCredentials.sessionToken,
      region: 'us-east-1',
    });
  });

  it('reads by ARN in the ARN region, and a missing secret is NotFoundError', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:agentium/github-app-key-AbCdEf';
    const controller = cloud();
    await expect(controller.readSecret(arn)).rejects.toBeInstanceOf(NotFoundError); // the fake's ARNs are us-east-1
    expect(secrets.calls[0]?.region).toBe('eu-west-1');
    await expect(controller.readSecret('agentium/missing')).rejects.toBeInstanceOf(NotFoundError);
    const key = await controller.readSecret('arn:aws:secretsmanager:us-east-1:123456789012:secret:agentium/github-app-key-AbCdEf');
    expect(key).toContain('BEGIN PRIVATE KEY');
  });
});

describe('reportStatus', () => {
  it('tags its own instance (trimmed id) and `status` reads the phase back', async () => {
    await cloud().reportStatus('agent-running', { step: 'agent' });
    const [call] = ec2.callsOf('CreateTags');
    expect(call?.params).toMatchObject({ 'ResourceId.1': instanceId, 'Tag.1.Key': phaseTag, 'Tag.1.Value': 'agent-running', 'Tag.2.Key': phaseDetailTag });
    expect(headerValue(call?.headers ?? {}, 'authorization')).toContain(`Credential=${roleCredentials.accessKeyId}/`);
    expect(headerValue(call?.headers ?? {}, 'x-amz-security-token')).toBe(roleCredentials.sessionToken);

    const provider = await createAwsProvider(awsTestConfig(ec2.url), { credentials: testCredentials });
    const [session] = (await provider.list()).sessions;
    expect(session).toMatchObject({ instance: instanceId, phase: 'agent-running' });
  });
});

describe('terminateSelf', () => {
  it('terminates its own instance and nothing else; again is still success', async () => {
    const bystander = ec2.seed({ tags: { 'agentium-managed': 'true' } });
    const controller = cloud();
    await controller.terminateSelf();
    expect(['shutting-down', 'terminated']).toContain(ec2.stateOf(instanceId));
    expect(ec2.stateOf(bystander.id)).toBe('running');
    const [call] = ec2.callsOf('TerminateInstances');
    expect(call?.params).toMatchObject({ 'InstanceId.1': instanceId });
    expect(call?.params['InstanceId.2']).toBeUndefined();
    await controller.terminateSelf();
  });

  it('an instance the API no longer knows counts as gone', async () => {
    await imds.close();
    imds = await startImdsFake({ instanceId: 'i-00000000000000000', credentials: roleCredentials });
    await expect(cloud().terminateSelf()).resolves.toBeUndefined();
  });

  it('gives up at its own timeout instead of hanging the final step', async () => {
    ec2.latencyMs = 5_000;
    const started = Date.now();
    const error = await cloud({ terminateTimeoutMs: 300 }).terminateSelf().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentiumError);
    expect(Date.now() - started).toBeLessThan(2_000);
    ec2.latencyMs = 0;
  });
});
