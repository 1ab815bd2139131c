/**
 * The fake GitHub's world: Apps (with RSA key pairs made in the test), installations, repositories
 * (real bare git repositories), issues, comments, pull requests and tokens with expiry and
 * revocation. Tests arrange it through these methods and assert on it directly.
 */
import { execFile } from 'node:child_process';
import { randomBytes, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export type Permission = 'read' | 'write';
export type Permissions = Record<string, Permission>;

export interface FakeUser {
  login: string;
  id: number;
  type: 'User' | 'Organization' | 'Bot';
}
export interface FakeApp {
  id: number;
  /** GitHub also accepts the App's client id (`Iv…`) as the JWT issuer. */
  clientId: string;
  slug: string;
  /** PEM (PKCS#8) of the private key, handed to the code under test. */
  privateKey: string;
  publicKey: KeyObject;
  bot: FakeUser;
}
export interface FakeInstallation {
  id: number;
  appId: number;
  account: FakeUser;
  /** Repository names (under `account`) the installation was granted. */
  repositories: string[];
  permissions: Permissions;
  createdAt: number;
}
export interface FakeRepo {
  id: number;
  owner: FakeUser;
  name: string;
  private: boolean;
  defaultBranch: string;
  /** Pushes to the default branch are refused (branch protection, as docs/github-app.md asks users to set up). */
  protectDefaultBranch: boolean;
  /** The bare repository served over smart HTTP. */
  gitDir: string;
  createdAt: number;
  nextNumber: number;
}
export interface FakeIssue {
  id: number;
  repoId: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  user: FakeUser;
  comments: number;
  createdAt: number;
  updatedAt: number;
}
export interface FakeComment {
  id: number;
  repoId: number;
  issueNumber: number;
  body: string;
  user: FakeUser;
  viaApp: boolean;
  createdAt: number;
  updatedAt: number;
}
export interface FakePull {
  id: number;
  repoId: number;
  number: number;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  baseSha: string;
  draft: boolean;
  state: 'open' | 'closed';
  user: FakeUser;
  createdAt: number;
  updatedAt: number;
}
export interface FakeToken {
  token: string;
  kind: 'installation' | 'user';
  installationId?: number;
  /** The acting user: the App's bot, or the token's owner. */
  actor: FakeUser;
  /** `owner/name` the token may touch; undefined = every repository (a user token). */
  repositories?: string[];
  permissions: Permissions;
  expiresAt: number;
  revoked: boolean;
}

export const satisfies = (granted: Permission | undefined, needed: Permission) =>
  granted === 'write' || (granted === 'read' && needed === 'read');

const gitEnv = {
  GIT_AUTHOR_NAME: 'Fake Owner',
  GIT_AUTHOR_EMAIL: 'owner@example.invalid',
  GIT_COMMITTER_NAME: 'Fake Owner',
  GIT_COMMITTER_EMAIL: 'owner@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** git as the fake runs it: no user or system config, a fixed identity. */
export async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: { ...process.env, ...gitEnv } });
  return stdout;
}

/** Server-side rules GitHub applies to pushes, fed by environment variables from the fake per request. */
const PRE_RECEIVE_HOOK = `#!/bin/sh
zero=0000000000000000000000000000000000000000
status=0
while read -r old new ref; do
  for protected in $FAKE_GITHUB_PROTECTED_REFS; do
    if [ "$ref" = "$protected" ]; then
      echo "error: GH006: Protected branch update failed for $ref." >&2
      status=1
    fi
  done
  [ "$new" = "$zero" ] && continue
  if [ "$FAKE_GITHUB_ALLOW_WORKFLOWS" != 1 ]; then
    workflows=$(git rev-list "$new" --not --all | while read -r commit; do
      git diff-tree -r -m --root --no-commit-id --name-only "$commit"
    done | grep '^\\.github/workflows/' | head -n 1)
    if [ -n "$workflows" ]; then
      echo "error: refusing to allow a GitHub App to create or update workflow \\\`$workflows\\\` without \\\`workflows\\\` permission" >&2
      status=1
    fi
  fi
done
exit $status
`;

export class FakeGitHubState {
  readonly apps = new Map<number, FakeApp>();
  readonly users = new Map<string, FakeUser>();
  readonly installations = new Map<number, FakeInstallation>();
  readonly repos = new Map<string, FakeRepo>();
  readonly issues: FakeIssue[] = [];
  readonly comments: FakeComment[] = [];
  readonly pulls: FakePull[] = [];
  readonly tokens = new Map<string, FakeToken>();
  private nextId = 1000;
  private readonly clock: () => number;
  /** Installation tokens live one hour on GitHub. */
  tokenLifetimeMs = 60 * 60_000;
  /** Value of the next minted token (default: `ghs_`/`ghp_` + 36 characters); tests set one no format rule knows. */
  tokenValue: ((kind: FakeToken['kind']) => string) | undefined = undefined;

  constructor(
    readonly gitRoot: string,
    clock: () => number,
  ) {
    this.clock = clock;
  }

  now(): number {
    return this.clock();
  }

  private id(): number {
    return this.nextId++;
  }

  user(login: string, type: FakeUser['type'] = 'User'): FakeUser {
    let user = this.users.get(login);
    if (!user) {
      user = { login, id: this.id(), type };
      this.users.set(login, user);
    }
    return user;
  }

  /** A GitHub App with a fresh 2048-bit RSA key pair. */
  createApp(options: { slug?: string } = {}): FakeApp {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const id = this.id();
    const slug = options.slug ?? `agentium-test-${id}`;
    const app: FakeApp = {
      id,
      clientId: `Iv23li${id.toString(16).padStart(14, '0')}`,
      slug,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey,
      bot: this.user(`${slug}[bot]`, 'Bot'),
    };
    this.apps.set(id, app);
    return app;
  }

  /** A repository with a real bare git repo holding one commit of `files` on the default branch. */
  async createRepo(
    fullName: string,
    options: { files?: Record<string, string>; defaultBranch?: string; private?: boolean; protectDefaultBranch?: boolean } = {},
  ): Promise<FakeRepo> {
    const [ownerLogin, name] = fullName.split('/') as [string, string];
    const defaultBranch = options.defaultBranch ?? 'main';
    const gitDir = join(this.gitRoot, ownerLogin, `${name}.git`);
    await mkdir(dirname(gitDir), { recursive: true });
    await git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, gitDir]);
    const work = await mkdtemp(join(tmpdir(), 'fake-github-seed-'));
    try {
      await git(['init', '--quiet', `--initial-branch=${defaultBranch}`, work]);
      for (const [path, content] of Object.entries(options.files ?? { 'README.md': `# ${name}\n` })) {
        await mkdir(dirname(join(work, path)), { recursive: true });
        await writeFile(join(work, path), content);
      }
      await git(['add', '-A'], work);
      await git(['commit', '--quiet', '-m', 'Initial commit'], work);
      await git(['push', '--quiet', gitDir, `HEAD:refs/heads/${defaultBranch}`], work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    // The hook goes in after seeding, so it only judges pushes that come over HTTP.
    await writeFile(join(gitDir, 'hooks', 'pre-receive'), PRE_RECEIVE_HOOK);
    await chmod(join(gitDir, 'hooks', 'pre-receive'), 0o755);
    const repo: FakeRepo = {
      id: this.id(),
      owner: this.user(ownerLogin),
      name,
      private: options.private ?? true,
      defaultBranch,
      protectDefaultBranch: options.protectDefaultBranch ?? true,
      gitDir,
      createdAt: this.now(),
      nextNumber: 1,
    };
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(fullName: string): FakeRepo | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  /** Install an App on some of an account's repositories with the given permissions. */
  install(
    app: FakeApp,
    account: string,
    repositories: string[],
    permissions: Permissions = { contents: 'write', pull_requests: 'write', issues: 'write', metadata: 'read' },
  ): FakeInstallation {
    const installation: FakeInstallation = {
      id: this.id(),
      appId: app.id,
      account: this.user(account),
      repositories,
      permissions,
      createdAt: this.now(),
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  installationFor(appId: number, fullName: string): FakeInstallation | undefined {
    const [owner, name] = fullName.toLowerCase().split('/');
    return [...this.installations.values()].find(
      (i) => i.appId === appId && i.account.login.toLowerCase() === owner && i.repositories.some((r) => r.toLowerCase() === name),
    );
  }

  addIssue(
    fullName: string,
    issue: { title: string; body?: string | null; state?: 'open' | 'closed'; labels?: string[]; author?: string },
  ): FakeIssue {
    const repo = this.mustRepo(fullName);
    const created: FakeIssue = {
      id: this.id(),
      repoId: repo.id,
      number: repo.nextNumber++,
      title: issue.title,
      body: issue.body ?? null,
      state: issue.state ?? 'open',
      labels: issue.labels ?? [],
      user: this.user(issue.author ?? repo.owner.login),
      comments: 0,
      createdAt: this.now(),
      updatedAt: this.now(),
    };
    this.issues.push(created);
    return created;
  }

  addComment(fullName: string, issueNumber: number, body: string, author: FakeUser, viaApp = false): FakeComment {
    const repo = this.mustRepo(fullName);
    const comment: FakeComment = {
      id: this.id(),
      repoId: repo.id,
      issueNumber,
      body,
      user: author,
      viaApp,
      createdAt: this.now(),
      updatedAt: this.now(),
    };
    this.comments.push(comment);
    const issue = this.issues.find((i) => i.repoId === repo.id && i.number === issueNumber);
    if (issue) issue.comments++;
    return comment;
  }

  addPull(repo: FakeRepo, pull: Omit<FakePull, 'id' | 'repoId' | 'number' | 'createdAt' | 'updatedAt' | 'state'>): FakePull {
    const created: FakePull = {
      ...pull,
      id: this.id(),
      repoId: repo.id,
      number: repo.nextNumber++,
      state: 'open',
      createdAt: this.now(),
      updatedAt: this.now(),
    };
    this.pulls.push(created);
    return created;
  }

  /** Mint a token directly (e.g. a read-only one, or a user's personal token for GITHUB_TOKEN mode). */
  mintToken(options: Omit<FakeToken, 'token' | 'expiresAt' | 'revoked'> & { expiresAt?: number }): FakeToken {
    const prefix = options.kind === 'installation' ? 'ghs_' : 'ghp_';
    const token: FakeToken = {
      ...options,
      token: this.tokenValue?.(options.kind) ?? `${prefix}${randomBytes(27).toString('base64url').slice(0, 36)}`,
      // GitHub reports expiry to the second.
      expiresAt: options.expiresAt ?? Math.floor((this.now() + this.tokenLifetimeMs) / 1000) * 1000,
      revoked: false,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** A token's problem, or undefined when it is usable now. */
  tokenProblem(token: FakeToken | undefined): string | undefined {
    if (!token) return 'Bad credentials';
    if (token.revoked) return 'Bad credentials';
    if (token.expiresAt <= this.now()) return 'Bad credentials';
    return undefined;
  }

  mustRepo(fullName: string): FakeRepo {
    const repo = this.repo(fullName);
    if (!repo) throw new Error(`fake GitHub: no repository ${fullName}`);
    return repo;
  }

  /** The sha a branch points at in the bare repository, or undefined. */
  async branchSha(repo: FakeRepo, branch: string): Promise<string | undefined> {
    try {
      return (await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], repo.gitDir)).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Files changed on `branch` relative to the default branch (for assertions). */
  async branchFiles(repo: FakeRepo, branch: string): Promise<string[]> {
    const out = await git(['diff', '--name-only', `refs/heads/${repo.defaultBranch}`, `refs/heads/${branch}`], repo.gitDir);
    return out.split('\n').filter(Boolean);
  }
}
