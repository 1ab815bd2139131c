/**
 * The CLI as a user runs it (a child process of the built `agentium`), against the fake Compute
 * API: `run` creates a session VM with the real SDK, `status` finds it, `destroy --all` removes
 * every managed instance and nothing else (SECURITY-CHECKLIST 34); an unreachable zone is never
 * hidden; Ctrl-C during `run` leaves no VM.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedLabel } from '../../src/labels.js';
import { startFakeCompute, type FakeCompute } from '../fakes/gcp/compute.js';
import { seedManaged, seedUnmanaged } from '../providers/gcp/fixtures.js';
import { cliPath, runCliAsync } from '../support/cli.js';
import { gcpSection, writeConfig } from './configs.js';
import { runCliAndInterrupt } from './interrupted-run.js';

// Each CLI child loads the Compute SDK (about a second, 5–11 s on a loaded 2-core machine) and is
// killed after 60 s by runCliAsync: a test gets a minute per child it starts.
const perCli = 60_000;

describe('agentium CLI against the fake GCP', () => {
  let compute: FakeCompute;
  let cwd: string;
  // Never fall back to a real metadata server for credentials.
  const env = { METADATA_SERVER_DETECTION: 'none', GCE_METADATA_HOST: '127.0.0.1:9' };

  beforeAll(async () => {
    compute = await startFakeCompute({ zones: ['us-central1-a', 'us-central1-b', 'europe-west1-b'], waitCompletes: true });
    cwd = writeConfig('gcp', [gcpSection(compute)]);
  });
  afterAll(async () => compute.close());

  it('run creates one labelled VM and prints its session id', { timeout: perCli }, async () => {
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

  it('refuses a second live session for the same issue (exit 6), creating nothing', { timeout: perCli }, async () => {
    const before = compute.instances().length;
    const result = await runCliAsync(['run', '--issue', '77', '--json'], { cwd, env });
    expect(result.status).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'policy', message: expect.stringMatching(/issue #77 already has a live session/) } });
    expect(compute.instances()).toHaveLength(before);
  });

  it('status lists managed sessions only; destroy --all deletes them all and nothing else', { timeout: 3 * perCli }, async () => {
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

  it('status --watch refreshes until Ctrl-C, then exits 0', { timeout: perCli }, async () => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AGENTIUM_')));
    const child = spawn(process.execPath, [cliPath, 'status', '--watch', '--interval', '1', '--json'], { cwd, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Interrupt after the third refresh: the watch must outlive its pauses between refreshes.
      if (stdout.split('\n').filter(Boolean).length === 3) child.kill('SIGINT');
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, stderr).toBe(0);
    const reports = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { at: string; sessions: unknown[] });
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(new Set(reports.map((report) => report.at)).size).toBe(reports.length);
  });

  it('destroy --all refuses to run unconfirmed off a terminal and deletes nothing', { timeout: perCli }, async () => {
    seedManaged(compute, 2);
    const result = await runCliAsync(['destroy', '--all'], { cwd, env });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/pass --yes/);
    expect(compute.instances().filter((instance) => instance.labels[managedLabel] === 'true')).toHaveLength(2);
  });

  it('status warns about an unreachable zone (stderr, and "unreachable" in --json); run refuses (exit 1) and creates nothing', { timeout: 3 * perCli }, async () => {
    seedManaged(compute, 3);
    compute.unreachableZones.add('us-central1-b');
    try {
      const human = await runCliAsync(['status'], { cwd, env });
      expect(human.status, human.stderr).toBe(0);
      expect(human.stderr).toMatch(/warning: gcp us-central1-b could not be listed, its sessions are missing from this list/);

      const json = await runCliAsync(['status', '--json'], { cwd, env });
      expect(json.status, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as { sessions: Array<{ location: string }>; unreachable: unknown[] };
      expect(report.unreachable).toEqual([{ provider: 'gcp', location: 'us-central1-b', reason: expect.any(String) }]);
      expect(report.sessions.length).toBeGreaterThan(0);
      expect(report.sessions.map((session) => session.location)).not.toContain('us-central1-b');

      // The one-live-session check cannot see us-central1-b, so it fails closed.
      const before = compute.calls('insert').length;
      const run = await runCliAsync(['run', '--issue', '78', '--json'], { cwd, env });
      expect(run.status, run.stdout).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        error: { kind: 'failure', message: 'cannot check issue #78 for a live session: us-central1-b could not be listed', details: { unreachable: [{ location: 'us-central1-b' }] } },
      });
      expect(compute.calls('insert')).toHaveLength(before);
    } finally {
      compute.unreachableZones.clear();
    }
  });
});

describe('agentium run interrupted against the fake GCP', () => {
  let compute: FakeCompute;
  let cwd: string;
  const env = { METADATA_SERVER_DETECTION: 'none', GCE_METADATA_HOST: '127.0.0.1:9' };

  beforeAll(async () => {
    // Operations take 3 s, as real ones take many: the signal arrives while the CLI waits on one.
    compute = await startFakeCompute({ zones: ['us-central1-a', 'us-central1-b'], operationMs: 3_000 });
    cwd = writeConfig('gcp', [gcpSection(compute)]);
  });
  afterAll(async () => compute.close());

  it.each(['SIGINT', 'SIGTERM'] as const)('%s while the VM is being created deletes it, says so and exits 1', { timeout: perCli }, async (signal) => {
    const before = compute.calls('delete').length;
    const result = await runCliAndInterrupt(['run', '--issue', '79', '--json'], { cwd, env, signal, when: /creating agentium-79-\S+ in us-central1-a/ });

    expect(result.stderr).toContain(`${signal}: cancelling session agentium-79-`);
    expect(result.status, result.stderr).toBe(1);
    const { error } = JSON.parse(result.stdout) as { error: { kind: string; message: string; details: { interrupted: string; session: string } } };
    expect(error).toMatchObject({ kind: 'failure', message: expect.stringMatching(new RegExp(`^run interrupted by ${signal}: `)), details: { interrupted: signal } });
    // The insert reached the fake; the cleanup deleted that instance; no other zone was tried.
    expect(compute.calls('insert').filter((r) => (r.json as { name: string }).name === error.details.session)).toHaveLength(1);
    expect(compute.calls('delete').slice(before).map((r) => r.path.split('/').at(-1))).toEqual([error.details.session]);
    expect(compute.instances()).toEqual([]);
  });
});
