/**
 * The CLI as a user runs it (a child process of the built `agentium`), against the fake Compute
 * API: `run` creates a session VM with the real SDK, `status` finds it, `destroy --all` removes
 * every managed instance and nothing else (SECURITY-CHECKLIST 34).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedLabel } from '../../src/labels.js';
import { startFakeCompute, type FakeCompute } from '../fakes/gcp/compute.js';
import { seedManaged, seedUnmanaged } from '../providers/gcp/fixtures.js';
import { runCliAsync } from '../support/cli.js';

describe('agentium CLI against the fake GCP', () => {
  let compute: FakeCompute;
  let cwd: string;
  // Never fall back to a real metadata server for credentials.
  const env = { METADATA_SERVER_DETECTION: 'none', GCE_METADATA_HOST: '127.0.0.1:9' };

  beforeAll(async () => {
    compute = await startFakeCompute({ zones: ['us-central1-a', 'us-central1-b', 'europe-west1-b'], waitCompletes: true });
    cwd = mkdtempSync(join(tmpdir(), 'agentium-e2e-gcp-'));
    writeFileSync(
      join(cwd, '.agentium.yaml'),
      [
        'provider: gcp',
        'repo: acme/widgets',
        'github: { appId: 12345, privateKeySecret: agentium-github-app-key }',
        `gcp: { project: ${compute.project}, zones: [${compute.zones.join(', ')}], apiEndpoint: "${compute.url}" }`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => compute.close());

  it('run creates one labelled VM and prints its session id', async () => {
    const result = await runCliAsync(['run', '--issue', '77', '--json'], { cwd, env });
    expect(result.status, result.stderr).toBe(0);
    const launched = JSON.parse(result.stdout) as { sessionId: string; location: string };
    expect(launched.sessionId).toMatch(/^agentium-77-[a-z0-9]{8}$/);
    const instance = compute.instance(launched.location, launched.sessionId);
    expect(instance?.labels[managedLabel]).toBe('true');
    // The request on the wire carries the user-data the dry-run would show.
    const metadata = (instance?.resource.metadata as { items: Array<{ key: string; value: string }> }).items;
    expect(metadata.find((item) => item.key === 'user-data')?.value).toContain(`"id": "${launched.sessionId}"`);
  });

  it('refuses a second live session for the same issue (exit 6), creating nothing', async () => {
    const before = compute.instances().length;
    const result = await runCliAsync(['run', '--issue', '77', '--json'], { cwd, env });
    expect(result.status).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'policy', message: expect.stringMatching(/issue #77 already has a live session/) } });
    expect(compute.instances()).toHaveLength(before);
  });

  it('status lists managed sessions only; destroy --all deletes them all and nothing else', async () => {
    seedManaged(compute, 12);
    seedUnmanaged(compute, 6);
    const status = await runCliAsync(['status', '--json'], { cwd, env });
    expect(status.status, status.stderr).toBe(0);
    const { sessions } = JSON.parse(status.stdout) as { sessions: Array<{ sessionId: string }> };
    expect(sessions).toHaveLength(13);

    const destroy = await runCliAsync(['destroy', '--all', '--yes', '--json'], { cwd, env });
    expect(destroy.status, destroy.stderr).toBe(0);
    const report = JSON.parse(destroy.stdout) as { summary: { deleted: number; failed: number } };
    expect(report.summary).toMatchObject({ deleted: 13, failed: 0 });
    const left = compute.instances();
    expect(left.filter((instance) => instance.labels[managedLabel] === 'true')).toEqual([]);
    expect(left).toHaveLength(6);

    // Idempotent: a second kill switch finds nothing to do and still succeeds.
    const again = await runCliAsync(['destroy', '--all', '--yes', '--json'], { cwd, env });
    expect(again.status).toBe(0);
    expect((JSON.parse(again.stdout) as { summary: { deleted: number } }).summary.deleted).toBe(0);
  });

  it('destroy --all refuses to run unconfirmed off a terminal and deletes nothing', async () => {
    seedManaged(compute, 2);
    const result = await runCliAsync(['destroy', '--all'], { cwd, env });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/pass --yes/);
    expect(compute.instances().filter((instance) => instance.labels[managedLabel] === 'true')).toHaveLength(2);
  });
});
