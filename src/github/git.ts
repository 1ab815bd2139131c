/**
 * Git over HTTPS with an installation token that never appears in a URL, in argv, or in any git
 * config file (SECURITY-CHECKLIST 11, 13).
 *
 * How the token reaches git: a credential helper given as a one-line shell snippet through
 * GIT_CONFIG_COUNT/KEY/VALUE environment variables (not `-c`, so not even the helper text is in
 * argv, and nothing is written to .git/config). The snippet prints the token from the variable
 * AGENTIUM_GIT_TOKEN, which exists only in the environment of that one git child process (not in
 * ours, not in the agent container): `/proc/<pid>/environ` is readable only by the same user, who
 * holds the token anyway. `printf` is a shell builtin, so the token is in no argv either. Before
 * our helper, an empty `credential.helper` clears every helper configured elsewhere, so no
 * `store`/keychain helper can save the token; the snippet answers only `get`, and only for the
 * expected host, so a redirected remote (`url.*.insteadOf`) does not receive it. Why not
 * GIT_ASKPASS: git still calls configured credential helpers around it, and `store` would persist
 * the token.
 *
 * The workspace is written by the untrusted agent, which could plant hooks or config (core.fsmonitor,
 * url.*.insteadOf, http.proxy) in it. So the token never runs git inside the workspace: pushIssueBranch
 * copies the branch into a fresh repository of our own (a local fetch, no token) and pushes from there.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentiumError, UsageError } from '../errors.js';
import { DEFAULT_GITHUB_API_URL } from './client.js';
import { issueBranch } from './pulls.js';

export type TokenSource = () => string | Promise<string>;

export interface GitOptions {
  /** Base environment for git (default process.env); tests put a logging `git` shim on PATH here. */
  env?: NodeJS.ProcessEnv;
}

const CREDENTIAL_HELPER =
  '!f() { test "$1" = get || return 0; ok=; while IFS= read -r line && test -n "$line"; do ' +
  'case "$line" in "host=$AGENTIUM_GIT_HOST") ok=1;; esac; done; ' +
  'test -n "$ok" && printf "username=x-access-token\\npassword=%s\\n" "$AGENTIUM_GIT_TOKEN"; }; f';

/** Config every git run gets through the environment (after all config files, so it wins). */
function configEnv(entries: Array<[string, string]>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/**
 * The clone URL for a repository on github.com or GitHub Enterprise Server, derived from the API
 * URL: api.github.com → github.com; https://HOST/api/v3 → https://HOST.
 */
export function gitRemoteUrl(apiUrl: string, owner: string, repo: string): string {
  const api = new URL(apiUrl || DEFAULT_GITHUB_API_URL);
  const origin = api.hostname === 'api.github.com' ? 'https://github.com' : api.origin;
  const prefix = api.hostname === 'api.github.com' ? '' : api.pathname.replace(/\/+$/, '').replace(/\/api\/v3$/, '');
  return `${origin}${prefix}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}.git`;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Refuse URLs that carry credentials, and plain http except to loopback (the test fake). */
function checkRemoteUrl(remoteUrl: string): URL {
  let url: URL;
  try {
    url = new URL(remoteUrl);
  } catch {
    throw new UsageError(`"${remoteUrl}" is not a git URL`);
  }
  if (url.username || url.password) throw new UsageError('the git remote URL must not contain credentials');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new UsageError(`git remotes must use https, got ${url.protocol}`);
  }
  return url;
}

/**
 * Of the caller's GIT_* variables only identity and TLS trust pass through: GIT_CONFIG_PARAMETERS
 * (read after our GIT_CONFIG_COUNT entries) could add a credential helper back, GIT_DIR could point
 * elsewhere, and GIT_TRACE_CURL with GIT_TRACE_REDACT=0 would log the Authorization header.
 */
const KEPT_GIT_VARIABLES = /^GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL|DATE)$|^GIT_SSL_CA(INFO|PATH)$/;

interface GitRun {
  args: string[];
  cwd?: string;
  options: GitOptions;
  /** Present only for commands that talk to the remote. */
  auth?: { url: URL; token: string };
}

function runGit({ args, cwd, options, auth }: GitRun): Promise<string> {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(options.env ?? process.env)) {
    if (name.startsWith('GIT_') && !KEPT_GIT_VARIABLES.test(name)) continue;
    if (name === 'SSH_ASKPASS' || name.startsWith('AGENTIUM_GIT_')) continue;
    base[name] = value;
  }
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_TERMINAL_PROMPT: '0',
    ...configEnv([
      ['core.hooksPath', '/dev/null'],
      ['core.askPass', ''],
      ['credential.helper', ''],
      ...(auth ? ([['credential.helper', CREDENTIAL_HELPER]] as Array<[string, string]>) : []),
    ]),
    ...(auth ? { AGENTIUM_GIT_TOKEN: auth.token, AGENTIUM_GIT_HOST: auth.url.host } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new AgentiumError('failure', `could not run git: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      let said = Buffer.concat(stderr).toString('utf8').trim();
      // Git does not print the password, but make sure an error message can never carry it.
      if (auth) said = said.split(auth.token).join('***');
      const kind = /\b(401|403)\b|Authentication failed|denied|Invalid username or password/i.test(said) ? 'auth' : 'failure';
      reject(new AgentiumError(kind, `git ${args[0] ?? ''} failed (exit ${code})${said ? `: ${said.slice(-2000)}` : ''}`));
    });
  });
}

export interface CloneOptions extends GitOptions {
  remoteUrl: string;
  /** Directory to create. */
  dir: string;
  token: TokenSource;
}

/** Clone the repository into `dir`; `origin` is the plain URL, with no credentials. */
export async function cloneRepository(options: CloneOptions): Promise<void> {
  const url = checkRemoteUrl(options.remoteUrl);
  await runGit({
    args: ['clone', '--quiet', '--no-tags', '--', url.toString(), options.dir],
    options,
    auth: { url, token: await options.token() },
  });
}

/** Fetch from origin into a repository Agentium owns (never into the agent's workspace after the agent ran). */
export async function fetchRepository(options: GitOptions & { dir: string; remoteUrl: string; token: TokenSource }): Promise<void> {
  const url = checkRemoteUrl(options.remoteUrl);
  await runGit({
    args: ['fetch', '--quiet', '--no-tags', '--', url.toString(), '+refs/heads/*:refs/remotes/origin/*'],
    cwd: options.dir,
    options,
    auth: { url, token: await options.token() },
  });
}

/** Create (or continue, when the remote already has it) the issue branch in a fresh clone. */
export async function checkoutIssueBranch(options: GitOptions & { dir: string; issueNumber: number }): Promise<string> {
  const branch = issueBranch(options.issueNumber);
  const remote = await runGit({
    args: ['for-each-ref', '--format=%(refname)', `refs/remotes/origin/${branch}`],
    cwd: options.dir,
    options,
  });
  const start = remote.trim() ? [`refs/remotes/origin/${branch}`] : [];
  await runGit({ args: ['checkout', '--quiet', '-B', branch, ...start], cwd: options.dir, options });
  return branch;
}

export interface PushOptions extends GitOptions {
  /** The workspace the agent worked in (untrusted content). */
  workspace: string;
  remoteUrl: string;
  issueNumber: number;
  token: TokenSource;
}

/**
 * Push `refs/heads/agentium/issue-<N>` and nothing else, never forced (no `+`, no --force): a
 * rejected non-fast-forward push is an error, not something to override.
 */
export async function pushIssueBranch(options: PushOptions): Promise<void> {
  const url = checkRemoteUrl(options.remoteUrl);
  const ref = `refs/heads/${issueBranch(options.issueNumber)}`;
  const scratch = await mkdtemp(join(tmpdir(), 'agentium-push-'));
  try {
    await runGit({ args: ['init', '--quiet', '--bare', scratch], options });
    // Local fetch from the untrusted workspace: no token in this process, and the remote-tracking
    // refs come along so the push below sends only new objects.
    await runGit({
      args: ['fetch', '--quiet', '--no-tags', '--', options.workspace, `${ref}:${ref}`, '+refs/remotes/origin/*:refs/remotes/origin/*'],
      cwd: scratch,
      options,
    });
    await runGit({
      args: ['push', '--quiet', '--no-verify', '--', url.toString(), `${ref}:${ref}`],
      cwd: scratch,
      options,
      auth: { url, token: await options.token() },
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
