/**
 * `agentium run --local` as a user runs it: the built CLI as a child process, a config file, an App
 * key file, real Docker and the fake GitHub. Ends cleanly on success and on SIGTERM / Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildTestAgentImage, scenarioPrompt } from '../fakes/agent-image/build.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { cliPath } from '../support/cli.js';
import { dockerAvailable, inspectContainer } from './docker/harness.js';

const docker = await dockerAvailable();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface LocalRun {
  github: FakeGitHub;
  issue: number;
  /** Resolves when the CLI exits. */
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves when stderr has printed a line matching `pattern`. */
  printed: (pattern: RegExp) => Promise<void>;
  kill: (signal: NodeJS.Signals) => void;
}

async function startLocalRun(issueBody: string, extraArgs: string[] = []): Promise<LocalRun> {
  const image = await buildTestAgentImage();
  const github = await startFakeGitHub();
  const home = await mkdtemp(join(tmpdir(), 'agentium-local-cli-'));
  cleanups.push(async () => {
    await github.close();
    await rm(home, { recursive: true, force: true });
  });
  await github.state.createRepo('octo/own', { files: { 'notes.txt': 'a\n' } });
  const issue = github.state.addIssue('octo/own', { title: 'Local from the CLI', body: issueBody }).number;
  const app = github.state.createApp();
  github.state.install(app, 'octo', ['own']);
  const keyFile = join(home, 'app.pem');
  await writeFile(keyFile, app.privateKey, { mode: 0o600 });
  const config = {
    provider: 'local',
    repo: 'octo/own',
    github: { appId: app.id, privateKeySecret: 'agentium-github-app-key', apiUrl: github.apiUrl },
    agent: { image, timeout: '120s' },
    egress: { allow: [] },
  };
  await writeFile(join(home, '.agentium.yaml'), stringify(config));

  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AGENTIUM_')));
  const child = spawn(process.execPath, [cliPath, 'run', '--local', '--issue', String(issue), ...extraArgs], {
    cwd: home,
    env: { ...env, HOME: home, GITHUB_APP_PRIVATE_KEY_FILE: keyFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(stderr)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  cleanups.unshift(async () => {
    child.kill('SIGKILL');
    await exit;
  });
  return {
    github,
    issue,
    exit,
    printed: (pattern) => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    kill: (signal) => child.kill(signal),
  };
}

const revocations = (github: FakeGitHub) => github.requests.filter((r) => r.method === 'DELETE' && r.url.endsWith('/installation/token') && r.status === 204).length;

describe.skipIf(!docker)('agentium run --local (built CLI, real Docker, fake GitHub)', () => {
  it('runs the session from .agentium.yaml and prints one JSON result', async () => {
    const run = await startLocalRun(scenarioPrompt('edit-file', 'notes.txt', 'from the cli'), ['--json']);
    const { code, stdout, stderr } = await run.exit;
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { outcome: string; pullRequest: { number: number }; final: Record<string, string> };
    expect(result).toMatchObject({ provider: 'local', outcome: 'success', final: { comment: 'ok', revoke: 'ok', status: 'ok', terminate: 'ok' } });
    expect(run.github.state.pulls.map((pull) => pull.number)).toEqual([result.pullRequest.number]);
    expect(revocations(run.github)).toBe(1);
    expect(run.github.violations).toEqual([]);
  }, 120_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} mid-agent stops the agent and still comments, revokes and cleans up`, async () => {
      const run = await startLocalRun(scenarioPrompt('sleep', '600'));
      await run.printed(/phase agent/);
      // Give the container a moment to start, so the signal lands while the agent runs.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      run.kill(signal);
      const { code, stderr } = await run.exit;
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(/outcome: (timed_out|failed)/);
      expect(run.github.state.comments.at(-1)?.body).toMatch(/timed out|interrupted|deadline/i);
      expect(revocations(run.github)).toBe(1);
      expect([...run.github.state.tokens.values()].every((token) => token.kind !== 'installation' || token.revoked)).toBe(true);
      const sessionId = /local session (agentium-\S+)/.exec(stderr)?.[1];
      expect(sessionId).toBeDefined();
      expect(await inspectContainer(`${sessionId}-agent`)).toBeUndefined();
      expect(run.github.state.pulls).toHaveLength(0);
    }, 120_000);
  }
});
