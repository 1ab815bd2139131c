import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  checkoutIssueBranch,
  cloneRepository,
  fetchRepository,
  gitRemoteUrl,
  mintInstallationToken,
  pushIssueBranch,
} from '../../src/github/index.js';
import { AgentiumError, UsageError } from '../../src/errors.js';
import { git } from '../fakes/github/state.js';
import { startFakeGitHub, type FakeApp, type FakeGitHub } from '../fakes/github/index.js';

let github: FakeGitHub;
let app: FakeApp;
let installationId: number;
let scratch: string;
let shimLog: string;
let env: NodeJS.ProcessEnv;
let remoteUrl: string;

const realGit = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
const identity = { GIT_AUTHOR_NAME: 'Agent', GIT_AUTHOR_EMAIL: 'agent@example.invalid', GIT_COMMITTER_NAME: 'Agent', GIT_COMMITTER_EMAIL: 'agent@example.invalid' };

/** What the agent does in its workspace: edit, commit. */
function commitFile(dir: string, path: string, content: string) {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), content);
  execFileSync(realGit, ['add', '-A'], { cwd: dir });
  execFileSync(realGit, ['commit', '--quiet', '-m', `change ${path}`], { cwd: dir, env: { ...process.env, ...identity } });
}

/** Every file under a directory, for "the token is nowhere in .git". */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * A push the way a careless tool would do it (the token on argv): only for proving the fake's
 * rules. Asynchronous, because the fake serves from this same process.
 */
async function rawPush(dir: string, token: string, refspec: string): Promise<string> {
  const header = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  try {
    await promisify(execFile)(realGit, ['-c', `http.extraHeader=${header}`, 'push', remoteUrl, refspec], { cwd: dir });
    return 'accepted';
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
}

/** The controller's steps up to the agent's first commit: clone, issue branch, one change. */
async function workspaceWithCommit(name: string, issueNumber: number, token: string, file: string, content: string) {
  const workspace = join(scratch, name);
  await cloneRepository({ remoteUrl, dir: workspace, token: () => token, env });
  await checkoutIssueBranch({ dir: workspace, issueNumber, env });
  commitFile(workspace, file, content);
  return workspace;
}

async function freshToken() {
  return (await mintInstallationToken({ appId: app.id, privateKey: app.privateKey, apiUrl: github.apiUrl }, installationId, 'widgets')).token;
}

beforeAll(async () => {
  github = await startFakeGitHub();
  app = github.state.createApp({ slug: 'agentium' });
  await github.state.createRepo('acme/widgets', { files: { 'README.md': '# widgets\n', 'src/index.js': 'export {};\n' } });
  installationId = github.state.install(app, 'acme', ['widgets']).id;
  remoteUrl = gitRemoteUrl(github.apiUrl, 'acme', 'widgets');
  scratch = mkdtempSync(join(tmpdir(), 'agentium-git-test-'));
  // A logging shim first on PATH captures the argv of every git process the helper starts.
  const shimDir = join(scratch, 'shim');
  mkdirSync(shimDir);
  shimLog = join(scratch, 'argv.log');
  writeFileSync(join(shimDir, 'git'), `#!/bin/sh\nprintf '%s\\n' "git $*" >> '${shimLog}'\nexec '${realGit}' "$@"\n`);
  chmodSync(join(shimDir, 'git'), 0o755);
  env = { ...process.env, ...identity, PATH: `${shimDir}:${process.env.PATH ?? ''}` };
});
afterAll(async () => {
  await github.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(() => {
  expect(github.violations.splice(0)).toEqual([]);
});

describe('remote URL', () => {
  it('maps github.com, GHES and the fake', () => {
    expect(gitRemoteUrl('https://api.github.com', 'acme', 'widgets')).toBe('https://github.com/acme/widgets.git');
    expect(gitRemoteUrl('https://ghe.example.com/api/v3', 'acme', 'widgets')).toBe('https://ghe.example.com/acme/widgets.git');
    expect(remoteUrl).toBe(github.gitUrl('acme', 'widgets'));
  });

  it('refuses URLs with credentials and plain http to anything but loopback', async () => {
    const dir = join(scratch, 'refused');
    const token = () => 'ghs_x';
    await expect(cloneRepository({ remoteUrl: 'https://x-access-token:ghs_x@github.com/a/b.git', dir, token })).rejects.toBeInstanceOf(UsageError);
    await expect(cloneRepository({ remoteUrl: 'http://github.com/a/b.git', dir, token })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('clone / fetch / push keep the token out of URLs, argv and .git/config (checklist 11, 13)', () => {
  it('clones, fetches and pushes only the issue branch, without force', async () => {
    const token = await freshToken();
    const workspace = join(scratch, 'workspace');
    writeFileSync(shimLog, '');
    await cloneRepository({ remoteUrl, dir: workspace, token: () => token, env });
    expect(readFileSync(join(workspace, 'README.md'), 'utf8')).toBe('# widgets\n');
    await fetchRepository({ dir: workspace, remoteUrl, token: () => token, env });
    expect(await checkoutIssueBranch({ dir: workspace, issueNumber: 7, env })).toBe('agentium/issue-7');
    commitFile(workspace, 'src/widget.js', 'export const widget = 1;\n');
    await pushIssueBranch({ workspace, remoteUrl, issueNumber: 7, token: () => token, env });

    const repo = github.state.mustRepo('acme/widgets');
    expect(await github.state.branchFiles(repo, 'agentium/issue-7')).toEqual(['src/widget.js']);

    // argv of every git process we started
    const argv = readFileSync(shimLog, 'utf8');
    expect(argv).not.toContain(token);
    const pushes = argv.split('\n').filter((line) => / push /.test(line));
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatch(/ push --quiet --no-verify -- http:\/\/127\.0\.0\.1:\d+\/acme\/widgets\.git refs\/heads\/agentium\/issue-7:refs\/heads\/agentium\/issue-7$/);
    expect(pushes[0]).not.toMatch(/(^| )(\+|--force|-f( |$)|--mirror|--all|--tags)/);

    // .git/config (and every other file in .git)
    const config = readFileSync(join(workspace, '.git', 'config'), 'utf8');
    expect(config).toContain(`url = ${remoteUrl}`);
    expect(config).not.toMatch(/x-access-token|credential|ghs_/);
    for (const file of filesUnder(join(workspace, '.git'))) expect(readFileSync(file, 'latin1')).not.toContain(token);

    // URLs on the wire; the token did travel, but only in the Basic auth header
    const gitRequests = github.requests.filter((r) => r.kind === 'git');
    expect(gitRequests.length).toBeGreaterThan(0);
    for (const request of gitRequests) expect(request.url).not.toContain(token);
    expect(gitRequests.filter((r) => r.auth.kind === 'token').every((r) => r.auth.kind === 'token' && r.auth.token === token)).toBe(true);
    expect(gitRequests.some((r) => r.url.endsWith('/git-receive-pack') && r.status === 200)).toBe(true);
  });

  it('pushes a second run onto the existing branch (fast-forward)', async () => {
    const token = await freshToken();
    const workspace = await workspaceWithCommit('workspace-2', 7, token, 'src/widget.js', 'export const widget = 2;\n');
    await pushIssueBranch({ workspace, remoteUrl, issueNumber: 7, token: () => token, env });
    const log = await git(['log', '--format=%s', 'refs/heads/agentium/issue-7'], github.state.mustRepo('acme/widgets').gitDir);
    expect(log.trim().split('\n')).toEqual(['change src/widget.js', 'change src/widget.js', 'Initial commit']);
  });

  it('a rewritten (non-fast-forward) branch is refused, not forced', async () => {
    const token = await freshToken();
    const workspace = await workspaceWithCommit('workspace-3', 8, token, 'a.txt', 'a\n'); // new branch from main
    await pushIssueBranch({ workspace, remoteUrl, issueNumber: 8, token: () => token, env });
    execFileSync(realGit, ['reset', '--quiet', '--hard', 'HEAD~1'], { cwd: workspace });
    commitFile(workspace, 'b.txt', 'b\n');
    const error = await pushIssueBranch({ workspace, remoteUrl, issueNumber: 8, token: () => token, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentiumError);
    expect((error as Error).message).toMatch(/rejected|non-fast-forward|fetch first/);
    expect((error as Error).message).not.toContain(token);
  });

  it('hooks and config planted in the workspace by the agent never see the token', async () => {
    const token = await freshToken();
    const workspace = await workspaceWithCommit('workspace-evil', 9, token, 'fix.txt', 'fixed\n');
    const loot = join(scratch, 'loot');
    const steal = `#!/bin/sh\nenv >> '${loot}'\ncat >> '${loot}'\nexit 0\n`;
    for (const hook of ['pre-push', 'reference-transaction', 'post-checkout']) {
      writeFileSync(join(workspace, '.git', 'hooks', hook), steal);
      chmodSync(join(workspace, '.git', 'hooks', hook), 0o755);
    }
    writeFileSync(join(scratch, 'steal.sh'), steal);
    chmodSync(join(scratch, 'steal.sh'), 0o755);
    execFileSync(realGit, ['config', 'credential.helper', `!${join(scratch, 'steal.sh')}`], { cwd: workspace });
    execFileSync(realGit, ['config', 'core.fsmonitor', join(scratch, 'steal.sh')], { cwd: workspace });
    execFileSync(realGit, ['config', `url.http://127.0.0.1:1/.insteadOf`, remoteUrl], { cwd: workspace });
    await pushIssueBranch({ workspace, remoteUrl, issueNumber: 9, token: () => token, env });
    expect(await github.state.branchFiles(github.state.mustRepo('acme/widgets'), 'agentium/issue-9')).toEqual(['fix.txt']);
    expect(existsSync(loot) ? readFileSync(loot, 'utf8') : '').not.toContain(token);
  });

  it('ignores GIT_* variables in the caller environment that could leak or redirect the token', async () => {
    const token = await freshToken();
    const trace = join(scratch, 'trace.log');
    const hostile = {
      ...env,
      GIT_TRACE_CURL: trace,
      GIT_TRACE_REDACT: '0',
      GIT_CONFIG_PARAMETERS: `'credential.helper'='!${join(scratch, 'steal.sh')}'`,
      GIT_DIR: '/nonexistent',
    };
    await cloneRepository({ remoteUrl, dir: join(scratch, 'workspace-env'), token: () => token, env: hostile });
    const traced = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
    expect(traced).not.toContain(token);
    expect(traced).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
    expect(existsSync(join(scratch, 'workspace-env', 'README.md'))).toBe(true);
  });

  it('a revoked token cannot clone: clear auth error, token not echoed', async () => {
    const token = await freshToken();
    github.state.tokens.get(token)!.revoked = true;
    const error = await cloneRepository({ remoteUrl, dir: join(scratch, 'denied'), token: () => token, env }).catch((e: unknown) => e);
    expect((error as AgentiumError).kind).toBe('auth');
    expect((error as Error).message).not.toContain(token);
  });
});

describe('the fake refuses pushes as GitHub does', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = join(scratch, 'rules');
    execFileSync(realGit, ['clone', '--quiet', join(github.state.mustRepo('acme/widgets').gitDir), workspace]);
  });

  it('refuses a change under .github/workflows/ without the workflows permission', async () => {
    execFileSync(realGit, ['checkout', '--quiet', '-B', 'agentium/issue-20', 'origin/main'], { cwd: workspace });
    commitFile(workspace, '.github/workflows/ci.yml', 'on: push\n');
    const result = await rawPush(workspace, await freshToken(), 'HEAD:refs/heads/agentium/issue-20');
    expect(result).toMatch(/refusing to allow a GitHub App to create or update workflow `\.github\/workflows\/ci\.yml` without `workflows` permission/);
    expect(await github.state.branchSha(github.state.mustRepo('acme/widgets'), 'agentium/issue-20')).toBeUndefined();
    // Also when the workflow change is buried under a later commit.
    commitFile(workspace, 'other.txt', 'x\n');
    expect(await rawPush(workspace, await freshToken(), 'HEAD:refs/heads/agentium/issue-20')).toMatch(/without `workflows` permission/);
  });

  it('accepts the same push with a token that has workflows: write (so the rule is about the token)', async () => {
    const token = github.state.mintToken({
      kind: 'installation', actor: app.bot, repositories: ['acme/widgets'], permissions: { contents: 'write', workflows: 'write' },
    });
    expect(await rawPush(workspace, token.token, 'HEAD:refs/heads/agentium/issue-20')).toBe('accepted');
  });

  it('refuses a push to the default branch (branch protection)', async () => {
    execFileSync(realGit, ['checkout', '--quiet', '-B', 'work', 'origin/main'], { cwd: workspace });
    commitFile(workspace, 'README.md', 'changed\n');
    const before = await github.state.branchSha(github.state.mustRepo('acme/widgets'), 'main');
    expect(await rawPush(workspace, await freshToken(), 'HEAD:refs/heads/main')).toMatch(/GH006: Protected branch update failed for refs\/heads\/main/);
    expect(await github.state.branchSha(github.state.mustRepo('acme/widgets'), 'main')).toBe(before);
  });

  it('refuses a push with a read-only (contents: read) token', async () => {
    const token = github.state.mintToken({
      kind: 'installation', actor: app.bot, repositories: ['acme/widgets'], permissions: { contents: 'read' },
    });
    expect(await rawPush(workspace, token.token, 'HEAD:refs/heads/agentium/issue-21')).toMatch(/403|Permission to acme\/widgets\.git denied/);
    // ... which can still fetch
    await expect(fetchRepository({ dir: workspace, remoteUrl, token: () => token.token, env })).resolves.toBeUndefined();
  });

  it('refuses a token for another repository', async () => {
    await github.state.createRepo('acme/other');
    const token = github.state.mintToken({
      kind: 'installation', actor: app.bot, repositories: ['acme/other'], permissions: { contents: 'write' },
    });
    expect(await rawPush(workspace, token.token, 'HEAD:refs/heads/agentium/issue-22')).toMatch(/not found|404/i);
  });
});
