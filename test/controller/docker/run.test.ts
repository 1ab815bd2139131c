/**
 * The run itself: exit codes, the agent's changes in the workspace, the output seam, the agent's
 * own timeout (SECURITY-CHECKLIST 23), an abort, and cleanup on every one of those paths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dockerAvailable,
  engine,
  inspectContainer,
  networkExists,
  runCollected,
  sweepTestLeftovers,
  testSession,
  testWorkspace,
} from './harness.js';
import type { TestSession, TestWorkspace } from './harness.js';
import { scenarioPrompt, scriptPrompt, testLabel } from '../../fakes/agent-image/build.js';
import { createAgentNetwork } from '../../../controller/docker/network.js';
import { containerCreateBody } from '../../../controller/docker/agent-container.js';
import { firewallRulePresent } from '../../../controller/docker/firewall.js';
import { NotFoundError } from '../../../src/errors.js';

const available = await dockerAvailable();

async function expectAllGone(session: TestSession): Promise<void> {
  expect(await inspectContainer(session.plan.network.name)).toBeUndefined();
  expect(await networkExists(session.plan.network.name)).toBe(false);
}

describe.skipIf(!available)('runAgentContainer', () => {
  let workspace: TestWorkspace | undefined;

  afterEach(async () => {
    workspace?.cleanup();
    workspace = undefined;
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('returns the exit code of a failing agent, with its stderr, and cleans up', async () => {
    const session = await testSession();
    workspace = testWorkspace(session.plan, scenarioPrompt('fail', '7'));
    const run = await runCollected(session, workspace);
    expect(run.result).toMatchObject({ exitCode: 7, timedOut: false });
    expect(run.stderr).toBe('failing on purpose\n');
    expect(run.stdout).toBe('');
    await expectAllGone(session);
  });

  it("leaves the agent's edits in the workspace (a file, a workflow, a leaked token) for the policy gate", async () => {
    const session = await testSession();
    const fakeToken = `ghs_${'Zz9'.repeat(12)}`;
    workspace = testWorkspace(
      session.plan,
      scriptPrompt(
        [
          'sh /agent/scenarios/edit-file.sh src/hello.txt hello from the agent',
          'sh /agent/scenarios/edit-workflow.sh x',
          `sh /agent/scenarios/write-token.sh config.env ${fakeToken}`,
        ].join('\n'),
      ),
    );
    const run = await runCollected(session, workspace);
    expect(run.result.exitCode).toBe(0);
    expect(readFileSync(join(workspace.workspaceDir, 'src/hello.txt'), 'utf8')).toBe('hello from the agent\n');
    expect(existsSync(join(workspace.workspaceDir, '.github/workflows/x.yml'))).toBe(true);
    expect(readFileSync(join(workspace.workspaceDir, 'config.env'), 'utf8')).toBe(`GITHUB_TOKEN=${fakeToken}\n`);
  });

  it("runs agent.command in place of the image's entrypoint", async () => {
    const session = await testSession();
    session.plan = { ...session.plan, command: ['/bin/sh', '-c', 'echo "from the command: $0 $AGENTIUM_ISSUE"'] };
    workspace = testWorkspace(session.plan, scenarioPrompt('fail', '9'));
    const run = await runCollected(session, workspace);
    expect(run.result.exitCode).toBe(0);
    expect(run.stdout).toBe('from the command: /bin/sh 5\n');
  });

  it('passes every output byte through the redact seam before onOutput sees it', async () => {
    const session = await testSession();
    // Written in pieces, so a marker straddles writes: a stateful transform is what the seam is for.
    workspace = testWorkspace(
      session.plan,
      scriptPrompt(`printf 'visible SEC'; sleep 0.2; printf 'RET-MARKER tail\\n'; echo 'err SECRET-MARKER' >&2`),
    );
    const seen: string[] = [];
    const redact = () => {
      let carry = '';
      return new Transform({
        transform(chunk: Buffer, _encoding, done) {
          seen.push(chunk.toString());
          const text = (carry + chunk.toString()).replaceAll('SECRET-MARKER', '[redacted]');
          // Hold back a possible marker prefix until the next chunk or the end.
          const keep = Math.min(text.length, 'SECRET-MARKER'.length - 1);
          carry = text.slice(text.length - keep);
          done(null, text.slice(0, text.length - keep).toUpperCase());
        },
        flush(done) {
          done(null, carry.replaceAll('SECRET-MARKER', '[redacted]').toUpperCase());
        },
      });
    };
    const run = await runCollected(session, workspace, { redact });
    expect(seen.some((chunk) => chunk.endsWith('SEC'))).toBe(true);
    expect(run.stdout).toBe('VISIBLE [REDACTED] TAIL\n');
    expect(run.stderr).toBe('ERR [REDACTED]\n');
    expect(run.chunks.map((chunk) => chunk.text).join('')).not.toMatch(/SECRET-MARKER|secret/i);
  });

  it('kills the agent at its own timeout, reports timedOut, and removes container, network and rules', async () => {
    const session = await testSession({ timeout: '2s' });
    workspace = testWorkspace(session.plan, scenarioPrompt('sleep', '60'));
    const network = await createAgentNetwork(session.spec, { labels: testLabel });
    const run = await runCollected(session, workspace, { network });
    expect(run.result.timedOut).toBe(true);
    expect(run.result.exitCode).toBe(137);
    expect(run.result.durationMs).toBeGreaterThanOrEqual(1_900);
    expect(run.result.durationMs).toBeLessThan(10_000);
    expect(run.stdout).toBe('sleeping\n');
    await expectAllGone(session);
    for (const rule of network.firewallRules) expect(await firewallRulePresent(rule)).toBe(false);
  });

  it('on abort (the session deadline) kills the agent, cleans up and rejects with the reason', async () => {
    const session = await testSession();
    workspace = testWorkspace(session.plan, scenarioPrompt('sleep', '60'));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('session deadline')), 1_000);
    await expect(runCollected(session, workspace, { signal: controller.signal })).rejects.toThrow('session deadline');
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectAllGone(session);
  });

  it('fails clearly when the image is missing, and still removes the network', async () => {
    const session = await testSession();
    session.plan = { ...session.plan, image: 'agentium-test-agent:does-not-exist' };
    workspace = testWorkspace(session.plan, scenarioPrompt('ready'));
    const error = await runCollected(session, workspace).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('agentium-test-agent:does-not-exist');
    await expectAllGone(session);
  });
});

describe.skipIf(!available)('a restarted controller', () => {
  let workspace: TestWorkspace | undefined;
  afterEach(async () => {
    workspace?.cleanup();
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it("removes its own session's leftover container, network and rules, then runs normally", async () => {
    const session = await testSession();
    workspace = testWorkspace(session.plan, scenarioPrompt('ready'));
    // A crash: the network, its rules and a created container stay behind.
    const crashed = await createAgentNetwork(session.spec, { labels: testLabel });
    await engine.request('POST', `/containers/create?name=${crashed.name}`, containerCreateBody(session.plan, workspace, crashed));
    expect(await inspectContainer(session.plan.network.name)).toBeDefined();

    const run = await runCollected(session, workspace);
    expect(run.result.exitCode).toBe(0);
    expect(run.stdout).toBe('ready\n');
    await expectAllGone(session);
    for (const rule of crashed.firewallRules) expect(await firewallRulePresent(rule)).toBe(false);
  });
});
