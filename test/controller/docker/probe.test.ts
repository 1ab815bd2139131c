/**
 * The same promises seen from inside: a probe run as the agent (SECURITY-CHECKLIST 15–20) and a
 * fork bomb against the pids limit (18).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerAvailable, engine, probeValues, runCollected, sweepTestLeftovers, testSession, testWorkspace } from './harness.js';
import type { CollectedRun, TestSession, TestWorkspace } from './harness.js';
import { scenarioPrompt } from '../../fakes/agent-image/build.js';

const available = await dockerAvailable();

// Seeded into the controller's own environment: none of it may reach the agent.
const fakeSecrets = {
  GITHUB_TOKEN: `ghs_${'A1b2C3d4E5'.repeat(3)}xYz123`,
  ANTHROPIC_API_KEY: `sk-ant-api03-${'q'.repeat(40)}`,
  AGENTIUM_LLM_KEY: 'llm-key-value-that-must-not-leak',
};

describe.skipIf(!available)('probe inside the agent container (checklist 15–20)', () => {
  let session: TestSession;
  let workspace: TestWorkspace;
  let run: CollectedRun;
  let probe: Map<string, string>;
  const saved = new Map<string, string | undefined>();

  beforeAll(async () => {
    for (const [key, value] of Object.entries(fakeSecrets)) {
      saved.set(key, process.env[key]);
      process.env[key] = value;
    }
    session = await testSession();
    workspace = testWorkspace(session.plan, scenarioPrompt('probe'));
    run = await runCollected(session, workspace);
    probe = probeValues(run.stdout);
  });

  afterAll(async () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    workspace?.cleanup();
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('the probe ran to the end', () => {
    expect(run.result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(run.stdout).toContain('--- end');
  });

  it('15: not root, no effective or bounding capabilities, no new privileges', () => {
    expect(probe.get('uid')).toBe('1000');
    expect(probe.get('gid')).toBe('1000');
    expect(probe.get('CapEff')).toBe('0000000000000000');
    expect(probe.get('CapBnd')).toBe('0000000000000000');
    expect(probe.get('NoNewPrivs')).toBe('1');
  });

  it('16: a seccomp filter is active (the default profile)', () => {
    expect(probe.get('Seccomp')).toBe('2');
  });

  it('17: writing to / fails; /tmp and the home tmpfs are writable but nosuid', () => {
    expect(probe.get('root_write')).toBe('denied');
    expect(probe.get('tmp_write')).toBe('ok');
    expect(probe.get('tmp_mount')?.split(',')).toContain('nosuid');
    expect(probe.get('home_mount')?.split(',')).toContain('nosuid');
  });

  it('19: the prompt file is read-only, and there is no docker socket', () => {
    expect(probe.get('prompt_mount')?.split(',')).toContain('ro');
    expect(probe.get('prompt_write')).toBe('denied');
    expect(probe.get('docker_sock')).toBe('absent');
    expect(run.stdout).not.toMatch(/docker\.sock/);
  });

  it('21: the container has no IPv6 (no link-local path around the IPv4 firewall)', () => {
    expect(probe.get('ipv6_disabled')).toBe('1');
  });

  it("20: no secret from the controller's environment is in the agent's env, pid 1's environ or any mounted file", () => {
    const everything = run.stdout + run.stderr;
    for (const value of Object.values(fakeSecrets)) expect(everything).not.toContain(value);
    for (const name of Object.keys(fakeSecrets)) expect(everything).not.toMatch(new RegExp(`^${name}=`, 'm'));
    // Nothing token-shaped at all, whatever its source.
    expect(everything).not.toMatch(/gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|sk-ant-|AKIA[0-9A-Z]{16}|BEGIN [A-Z ]*PRIVATE KEY/);
  });
});

describe.skipIf(!available)('fork bomb (checklist 18)', () => {
  let workspace: TestWorkspace;
  afterAll(async () => {
    workspace?.cleanup();
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('hits the pids limit, stays bounded and is ended by the timeout', async () => {
    const session = await testSession({ pids: 64, timeout: '5s' });
    workspace = testWorkspace(session.plan, scenarioPrompt('fork-bomb', '3'));
    const run = await runCollected(session, workspace);
    const probe = probeValues(run.stdout);

    expect(probe.get('pids.max')).toBe('64');
    const counts = [...run.stdout.matchAll(/^pids\.current=(\d+)$/gm)].map((match) => Number(match[1]));
    expect(counts.length).toBeGreaterThan(0);
    for (const count of counts) expect(count).toBeLessThanOrEqual(64);
    // It really forked (a few of the bomb's shells die on their own failed forks, so not exactly 64)…
    expect(Math.max(...counts)).toBeGreaterThan(32);
    // …and the kernel refused forks at the limit N times (pids.events `max N`, cgroup v1 and v2).
    expect(Number(/max (\d+)/.exec(probe.get('pids.events') ?? '')?.[1])).toBeGreaterThan(0);
    expect(run.result.timedOut).toBe(true);
    // The engine is fine afterwards.
    await expect(engine.request('GET', '/_ping')).resolves.toBe('OK');
  }, 60_000);
});
