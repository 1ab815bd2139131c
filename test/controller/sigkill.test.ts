/**
 * SECURITY-CHECKLIST 33 on one machine: `agentium-controller` (the built bin, a real process) is
 * killed with SIGKILL while the agent runs. Nothing in the process can react, so this shows exactly
 * what is left (the agent container, its network and firewall rules, an unrevoked token) and that a
 * controller restarted on the same state dir — what a VM's restart would run — removes the leftovers,
 * finishes the session once and terminates. On a real VM the cloud's cap is the backstop when nothing
 * restarts the controller (the request tests of lines 24 and 30).
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { agentNetworkName } from '../../src/session/container.js';
import { agentBridgeName } from '../../controller/docker/network.js';
import { listChain } from '../../controller/docker/firewall.js';
import { scenarioPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable, inspectContainer } from './docker/harness.js';
import { mintedTokens, pushes, revocations, sessionWorld, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();
const controllerBin = fileURLToPath(new URL('../../dist/controller/main.js', import.meta.url));
const worlds: SessionWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) {
    // Should the test fail half-way, do not leave the sleeping agent behind.
    const name = `${world.spec.id}-agent`;
    await new Promise((resolve) => execFile('docker', ['rm', '-f', name], () => execFile('docker', ['network', 'rm', name], resolve)));
    await world.cleanup();
  }
});

function startController(world: SessionWorld, specFile: string) {
  const child = spawn(process.execPath, [controllerBin], {
    env: { PATH: process.env.PATH, AGENTIUM_SESSION_FILE: specFile, AGENTIUM_STATE_DIR: world.stateDir, TEST_APP_KEY_PEM: world.app.privateKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exit };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const running = (inspected: Record<string, unknown> | undefined) => (inspected?.State as { Running?: boolean } | undefined)?.Running === true;

async function firewallRulesOf(bridge: string): Promise<number> {
  const chains = await Promise.all([listChain('INPUT'), listChain('DOCKER-USER')]);
  return chains.flat().filter((rule) => rule.includes(bridge)).length;
}

describe.skipIf(!docker)('agentium-controller killed with SIGKILL (real process, real Docker)', () => {
  it('leaves the agent container, network and rules; a restart removes them, finishes once and terminates', async () => {
    const world = await sessionWorld({ issueBody: scenarioPrompt('sleep', '600') });
    worlds.push(world);
    world.spec.github.privateKeySecret = 'TEST_APP_KEY_PEM';
    const specFile = join(world.stateDir, 'session.json');
    await writeFile(specFile, JSON.stringify(world.spec));
    const agent = `${world.spec.id}-agent`;
    const bridge = agentBridgeName(agentNetworkName(world.spec));

    const first = startController(world, specFile);
    await until(async () => running(await inspectContainer(agent)), 'the agent container to run');
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    // What a SIGKILL leaves on the machine: nothing ran the final steps.
    expect(running(await inspectContainer(agent))).toBe(true);
    expect(await firewallRulesOf(bridge)).toBeGreaterThan(0);
    expect(revocations(world.github)).toBe(0);
    await expect(readFile(join(world.stateDir, 'terminate-self.json'), 'utf8')).rejects.toThrow();

    // The restarted controller (same spec, same state dir) starts by removing them.
    const issue = world.github.state.issues.find((candidate) => candidate.number === world.issue);
    if (!issue) throw new Error('issue missing');
    issue.body = scenarioPrompt('edit-file', 'src/widget.txt', 'after the restart');
    const second = startController(world, specFile);
    const { code, stderr } = await second.exit;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/outcome: success/);
    expect(await inspectContainer(agent)).toBeUndefined();
    expect(await firewallRulesOf(bridge)).toBe(0);
    expect(pushes(world.github)).toBe(1);
    expect(world.github.state.pulls).toHaveLength(1);
    expect(JSON.parse(await readFile(join(world.stateDir, 'terminate-self.json'), 'utf8'))).toMatchObject({ calls: 1 });

    // The killed controller's token could not be revoked: it stays valid until GitHub expires it
    // (an hour at most). The restarted one revokes its own.
    const [killedToken, restartedToken] = mintedTokens(world.github);
    expect(world.github.state.tokens.get(killedToken ?? '')?.revoked).toBe(false);
    expect(world.github.state.tokens.get(restartedToken ?? '')?.revoked).toBe(true);
    expect(world.github.violations).toEqual([]);
  }, 180_000);
});
