/**
 * A whole controller session on real Docker, real git and the fake GitHub (issue 5): the happy path
 * and where the secrets must never show up (SECURITY-CHECKLIST 10, 11, 13, 20, 33).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable, inspectContainer } from './docker/harness.js';
import { gitShow, issueComments, mintedTokens, pushes, revocations, runWorldSession, secretNeedles, sessionWorld, type SessionRun, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();

describe.skipIf(!docker)('controller session end to end (real Docker, fake GitHub)', () => {
  let world: SessionWorld;
  let run: SessionRun;
  let inspected: Record<string, unknown> | undefined;

  beforeAll(async () => {
    // The agent holds until the test has inspected its running container, then edits a file.
    world = await sessionWorld({
      issueBody: scriptPrompt(
        'while [ ! -e /workspace/.inspected ]; do sleep 0.1; done; rm /workspace/.inspected\necho "new widget" > /workspace/src/widget.txt\necho "edited src/widget.txt"',
      ),
    });
    const name = `${world.spec.id}-agent`;
    const running = runWorldSession(world);
    for (let i = 0; i < 300 && !inspected; i++) {
      const container = await inspectContainer(name);
      if ((container?.State as { Running?: boolean } | undefined)?.Running) inspected = container;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(world.stateDir, 'workspace', '.inspected'), '');
    run = await running;
  }, 120_000);

  afterAll(async () => world?.cleanup());

  it('opens a draft PR on agentium/issue-N with the agent change, authored by the bot', async () => {
    expect(run.result.outcome.kind).toBe('success');
    expect(run.result.exitCode).toBe(0);
    const pulls = world.github.state.pulls;
    expect(pulls).toHaveLength(1);
    expect(await gitShow(world, `agentium/issue-${world.issue}:.inspected`).catch(() => 'absent')).toBe('absent');
    expect(pulls[0]).toMatchObject({ head: `agentium/issue-${world.issue}`, base: 'main', draft: true });
    expect(pulls[0]?.body).toContain(`Closes #${world.issue}`);
    expect(await gitShow(world, `agentium/issue-${world.issue}:src/widget.txt`)).toBe('new widget\n');
    const log = await gitShow(world, `agentium/issue-${world.issue}`);
    expect(log).toContain('Author: agentium-test[bot] <agentium-test[bot]@users.noreply.github.com>');
    expect(await gitShow(world, 'main:src/widget.txt')).toBe('old\n');
    expect(world.github.violations).toEqual([]);
  });

  it('comments the outcome on the issue, revokes the token and terminates', () => {
    const comments = issueComments(world);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/opened draft pull request #\d+/);
    expect(revocations(world.github)).toBe(1);
    expect([...world.github.state.tokens.values()].every((token) => token.revoked)).toBe(true);
    expect(run.cloud.terminateCalls).toBe(1);
    expect(run.result.final).toEqual({ comment: 'ok', revoke: 'ok', status: 'ok', terminate: 'ok' });
    expect(run.cloud.phases).toEqual(['secrets', 'token', 'workspace', 'agent', 'policy', 'publish', 'finished']);
    expect(pushes(world.github)).toBe(1);
  });

  it('keeps the token and the App key out of the container, the logs, GitHub text and .git/config', async () => {
    expect(inspected, 'the agent container was seen running').toBeDefined();
    expect(mintedTokens(world.github).length).toBeGreaterThan(0);
    const needles = secretNeedles(world);
    const haystacks: Record<string, string> = {
      'docker inspect': JSON.stringify(inspected),
      'controller log': run.lines.join('\n'),
      comments: issueComments(world).join('\n'),
      'PR text': world.github.state.pulls.map((p) => `${p.title}\n${p.body}`).join('\n'),
      'workspace .git/config': await readFile(join(world.stateDir, 'workspace', '.git', 'config'), 'utf8'),
      'status file': await readFile(join(world.stateDir, 'status.json'), 'utf8'),
      'prompt file': await readFile(join(world.stateDir, 'prompt', 'prompt.md'), 'utf8'),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const needle of needles) expect(text.includes(needle), `a secret appears in the ${where}`).toBe(false);
    }
    const env = ((inspected?.Config as { Env?: string[] }).Env ?? []).join('\n');
    expect(env).not.toMatch(/TOKEN|KEY|SECRET|PASSWORD/i);
    expect(run.lines.some((line) => line.includes('[agent stdout] edited src/widget.txt'))).toBe(true);
  });
});
