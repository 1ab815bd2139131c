/**
 * `destroy` with both clouds configured, one of them down: the kill switch must still delete what
 * the other cloud holds, report the failing cloud's error next to those results, and exit 1.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedLabel } from '../../src/labels.js';
import { startFakeCompute, type FakeCompute } from '../fakes/gcp/compute.js';
import { seedManaged } from '../providers/gcp/fixtures.js';
import { runCliAsync } from '../support/cli.js';
import { awsSection, gcpSection, writeConfig } from './configs.js';

/** A loopback port that was free a moment ago: nothing listens there, so connections are refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('agentium destroy across clouds, one of them unreachable', () => {
  let compute: FakeCompute;
  let cwd: string;
  const env = {
    METADATA_SERVER_DETECTION: 'none',
    GCE_METADATA_HOST: '127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    AWS_EC2_METADATA_DISABLED: 'true',
  };

  beforeAll(async () => {
    compute = await startFakeCompute({ zones: ['us-central1-a', 'us-central1-b'], waitCompletes: true });
    cwd = writeConfig('gcp', [gcpSection(compute), awsSection(`http://127.0.0.1:${await closedPort()}`)]);
  });
  afterAll(async () => compute.close());

  it('destroy --all deletes the reachable cloud\'s instances, reports the other cloud\'s error, and exits 1', { timeout: 120_000 }, async () => {
    seedManaged(compute, 4);
    const result = await runCliAsync(['destroy', '--all', '--yes', '--json'], { cwd, env });
    expect(result.status, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as {
      summary: { deleted: number; failed: number; failedProviders: string[] };
      results: Array<{ provider: string; outcome: string }>;
      providerErrors: Array<{ provider: string; error: { kind: string; message: string; details?: Record<string, unknown> } }>;
    };
    expect(report.summary).toMatchObject({ deleted: 4, failed: 0, failedProviders: ['aws'] });
    expect(report.results.every((row) => row.provider === 'gcp' && row.outcome === 'deleted')).toBe(true);
    expect(report.providerErrors).toEqual([
      { provider: 'aws', error: expect.objectContaining({ kind: 'failure', message: 'EC2 DescribeInstances in us-east-1 failed: cannot reach the endpoint (ECONNREFUSED)' }) },
    ]);
    expect(report.providerErrors[0]?.error.details?.code).toBeUndefined();
    expect(compute.instances().filter((instance) => instance.labels[managedLabel] === 'true')).toEqual([]);
  });

  it('the human report prints both clouds and the summary names the failed one', { timeout: 120_000 }, async () => {
    seedManaged(compute, 2);
    const result = await runCliAsync(['destroy', '--all', '--yes'], { cwd, env });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^aws: FAILED: EC2 DescribeInstances in us-east-1 failed: cannot reach the endpoint \(ECONNREFUSED\)/m);
    expect(result.stdout.match(/: deleted \(gcp /g)).toHaveLength(2);
    expect(result.stdout).toMatch(/deleted 2, already gone 0, failed 0, clouds failed: aws\n$/);
  });
});
