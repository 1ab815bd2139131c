/**
 * `agentium run --local` (controller/local.ts): the same lifecycle in-process, credentials from a
 * plain GITHUB_TOKEN or an App key file (docs/local-mode.md), the same container rules.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocalSession } from '../../controller/local.js';
import { dockerAgentRuntime } from '../../controller/steps/agent.js';
import { parseConfig } from '../../src/config/schema.js';
import { planSession } from '../../src/session/plan.js';
import { buildTestAgentImage, scenarioPrompt, testLabel } from '../fakes/agent-image/build.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { dockerAvailable } from './docker/harness.js';

const docker = await dockerAvailable();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  process.exitCode = undefined;
});

async function setup(body: string): Promise<{ github: FakeGitHub; issue: number; stateDir: string; image: string }> {
  const image = await buildTestAgentImage();
  const github = await startFakeGitHub();
  await github.state.createRepo('octo/own', { files: { 'notes.txt': 'a\n' } });
  const issue = github.state.addIssue('octo/own', { title: 'Local please', body }).number;
  const stateDir = await mkdtemp(join(tmpdir(), 'agentium-local-'));
  cleanups.push(async () => {
    await github.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  return { github, issue, stateDir, image };
}

describe.skipIf(!docker)('run --local (real Docker, fake GitHub)', () => {
  it('with a plain GITHUB_TOKEN: PR authored by the configured identity, the user token is not revoked', async () => {
    const { github, issue, stateDir, image } = await setup(scenarioPrompt('edit-file', 'notes.txt', 'b'));
    const user = github.state.user('octo');
    const token = github.state.mintToken({ kind: 'user', actor: user, permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } }).token;
    const config = parseConfig({ provider: 'local', repo: 'octo/own', agent: { image, timeout: '60s' }, egress: { allow: [] } });
    const plan = planSession(config, { provider: 'local', issue, now: new Date(), nonce: randomBytes(4).toString('hex') });
    // No App configured means no github.apiUrl key: point the plan at the fake, as a GHES URL would.
    plan.session.github.apiUrl = github.apiUrl;
    const lines: string[] = [];
    const result = await runLocalSession(plan, {
      json: false,
      env: { GITHUB_TOKEN: token, GIT_AUTHOR_NAME: 'Octo Cat', GIT_AUTHOR_EMAIL: 'octo@example.com' },
      stateDir,
      runtime: dockerAgentRuntime({ labels: testLabel }),
      write: (line) => lines.push(line),
    });
    expect(result.outcome.kind).toBe('success');
    expect(process.exitCode).toBe(0);
    expect(github.state.pulls).toHaveLength(1);
    const repo = github.state.mustRepo('octo/own');
    const { execFileSync } = await import('node:child_process');
    const log = execFileSync('git', ['--git-dir', repo.gitDir, 'log', '-1', '--format=%an <%ae>', `agentium/issue-${issue}`], { encoding: 'utf8' });
    expect(log.trim()).toBe('Octo Cat <octo@example.com>');
    expect(github.requests.some((r) => r.method === 'DELETE' && r.url.endsWith('/installation/token'))).toBe(false);
    expect(github.state.tokens.get(token)?.revoked).toBe(false);
    expect(result.final.terminate).toBe('ok');
    expect(JSON.parse(await readFile(join(stateDir, 'terminate-self.json'), 'utf8'))).toMatchObject({ calls: 1 });
    expect(JSON.parse(await readFile(join(stateDir, 'status.json'), 'utf8'))).toMatchObject({ phase: 'finished', detail: { outcome: 'success' } });
    expect(lines.join('\n')).not.toContain(token);
    expect(github.violations).toEqual([]);
  });

  it('with an App key file (GITHUB_APP_PRIVATE_KEY_FILE): token minted, and revoked at the end', async () => {
    const { github, issue, stateDir, image } = await setup(scenarioPrompt('ready'));
    const app = github.state.createApp();
    github.state.install(app, 'octo', ['own']);
    const keyFile = join(stateDir, '..', `${app.slug}.pem`);
    await writeFile(keyFile, app.privateKey, { mode: 0o600 });
    cleanups.push(() => rm(keyFile, { force: true }));
    const config = parseConfig({
      provider: 'local',
      repo: 'octo/own',
      github: { appId: app.id, privateKeySecret: 'projects/x/secrets/app-key', apiUrl: github.apiUrl },
      agent: { image, timeout: '60s' },
      egress: { allow: [] },
    });
    const plan = planSession(config, { provider: 'local', issue, now: new Date(), nonce: randomBytes(4).toString('hex') });
    const lines: string[] = [];
    const result = await runLocalSession(plan, {
      json: false,
      env: { GITHUB_APP_PRIVATE_KEY_FILE: keyFile },
      stateDir,
      runtime: dockerAgentRuntime({ labels: testLabel }),
      write: (line) => lines.push(line),
    });
    expect(result.outcome.kind).toBe('no_changes');
    expect(github.requests.filter((r) => r.method === 'DELETE' && r.url.endsWith('/installation/token') && r.status === 204)).toHaveLength(1);
    expect(github.state.comments.at(-1)?.body).toMatch(/finished without changing any file/);
    const pemBody = app.privateKey.split('\n')[1] ?? '';
    expect(pemBody.length).toBeGreaterThan(20);
    expect(lines.join('\n')).not.toContain(pemBody);
  });
});
