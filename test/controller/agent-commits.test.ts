/**
 * An agent that commits locally: what leaves is one bot commit on top of the base whose diff is
 * everything the agent's commits and work tree changed, judged whole by the policy gate. A secret
 * committed and later deleted never reaches GitHub, and the agent's commit metadata is not pushed.
 * (The busybox test agent has no git; the test commits in the workspace while the agent waits, as
 * an agent with git would.)
 */
import { execFile } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable, inspectContainer } from './docker/harness.js';
import { gitShow, pushes, runWorldSession, sessionWorld, type SessionRun, type SessionWorld } from './session-harness.js';

const exec = promisify(execFile);
const docker = await dockerAvailable();

describe.skipIf(!docker)('an agent that commits locally', () => {
  let world: SessionWorld;
  let run: SessionRun;
  const secret = `ghp_${'Kx7Qm2Lp9R'.repeat(4).slice(0, 36)}`;

  beforeAll(async () => {
    world = await sessionWorld({ issueBody: scriptPrompt('while [ ! -e /workspace/.done ]; do sleep 0.1; done; rm /workspace/.done') });
    const running = runWorldSession(world);
    for (let i = 0; i < 300; i++) {
      if ((await inspectContainer(`${world.spec.id}-agent`))?.State) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const dir = join(world.stateDir, 'workspace');
    const git = (...args: string[]) =>
      exec('git', ['-c', 'safe.directory=*', '-c', 'user.name=Agent Smith', '-c', 'user.email=smith@agent.invalid', ...args], { cwd: dir });
    await writeFile(join(dir, 'leak.env'), `TOKEN=${secret}\n`);
    await git('add', 'leak.env');
    await git('commit', '-q', '-m', `oops ${secret}`);
    await rm(join(dir, 'leak.env'));
    await git('commit', '-q', '-a', '-m', 'remove the leak');
    await writeFile(join(dir, 'src', 'widget.txt'), 'committed widget\n');
    await git('commit', '-q', '-a', '-m', 'the real work');
    await writeFile(join(dir, 'NOTES.md'), 'left uncommitted\n');
    await writeFile(join(dir, '.done'), '');
    run = await running;
  }, 120_000);

  afterAll(async () => world?.cleanup());

  it('pushes one bot commit with the committed and the uncommitted work', async () => {
    expect(run.result.outcome.kind, run.lines.join('\n')).toBe('success');
    expect(pushes(world.github)).toBe(1);
    const branch = `agentium/issue-${world.issue}`;
    expect(await gitShow(world, `${branch}:src/widget.txt`)).toBe('committed widget\n');
    expect(await gitShow(world, `${branch}:NOTES.md`)).toBe('left uncommitted\n');
    const repo = world.github.state.mustRepo('acme/widgets');
    const { stdout: count } = await exec('git', ['--git-dir', repo.gitDir, 'rev-list', '--count', `main..${branch}`]);
    expect(count.trim()).toBe('1');
    const { stdout: author } = await exec('git', ['--git-dir', repo.gitDir, 'log', '-1', '--format=%an', branch]);
    expect(author.trim()).toBe('agentium-test[bot]');
  });

  it('never sends the secret the agent committed and deleted, nor its commit messages', async () => {
    const repo = world.github.state.mustRepo('acme/widgets');
    const { stdout: everything } = await exec('git', ['--git-dir', repo.gitDir, 'log', '--all', '-p'], { maxBuffer: 1 << 26 });
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('Agent Smith');
    expect(everything).not.toContain('remove the leak');
    const { stdout: objects } = await exec('git', ['--git-dir', repo.gitDir, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 1 << 26 });
    expect(objects).not.toContain(secret);
  });
});
