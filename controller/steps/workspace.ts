/**
 * Step 4: clone over HTTPS (token from the GitHub layer's credential helper: never in a URL, argv
 * or .git/config) and put the workspace on `agentium/issue-<N>` (continuing the remote branch when
 * a previous session pushed it). Then, while the clone is still ours, copy its refs into the
 * controller's own repository (`controller.git`): the base the policy gate and publish step trust
 * is read there, never from the workspace after the agent has had it.
 */
import { lchown, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkoutIssueBranch, cloneRepository, gitRemoteUrl } from '../../src/github/index.js';
import type { SessionSpec } from '../../src/session/spec.js';
import { localGit, type LocalGit } from './git.js';

export interface Workspace {
  /** The agent's working tree (bind-mounted read-write). */
  dir: string;
  /** The controller's repository. */
  git: LocalGit;
  remoteUrl: string;
  /** Commit the agent starts from: the remote issue branch tip, else the default branch tip. */
  base: string;
  /** The remote issue branch tip at clone time, if the branch existed. */
  remoteBranchHead: string | undefined;
  /** The PR's base branch. */
  defaultBranch: string;
}

export interface WorkspaceOptions {
  spec: SessionSpec;
  stateDir: string;
  token: () => Promise<string>;
  /** uid:gid the agent runs as; the working tree is handed to it. */
  owner: { uid: number; gid: number };
  /** Override of the clone URL (default: derived from spec.github.apiUrl). */
  remoteUrl?: string;
}

/** The controller's own repository in the state dir: the candidate commit lives there. */
export function controllerRepoDir(stateDir: string): string {
  return join(stateDir, 'controller.git');
}

export async function prepareWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const { spec, stateDir } = options;
  const dir = join(stateDir, 'workspace');
  const gitDir = controllerRepoDir(stateDir);
  // A restarted controller starts from a clean clone; what it already published is in the marker.
  await rm(dir, { recursive: true, force: true });
  await rm(gitDir, { recursive: true, force: true });
  const remoteUrl = options.remoteUrl ?? gitRemoteUrl(spec.github.apiUrl, spec.repo.owner, spec.repo.name);
  await cloneRepository({ remoteUrl, dir, token: options.token });
  const branch = await checkoutIssueBranch({ dir, issueNumber: spec.issue });

  // Still our clone (the agent has not run): its refs can be trusted.
  const clone = localGit(join(dir, '.git'));
  const base = (await clone(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  const remoteBranchHead = (await clone(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`]).catch(() => '')).trim() || undefined;
  const defaultBranch = (await clone(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'])).trim().replace(/^origin\//, '');

  await mkdir(gitDir, { recursive: true });
  const git = localGit(gitDir);
  await git(['init', '--quiet', '--bare', gitDir]);
  await git(['fetch', '--quiet', '--no-tags', join(dir, '.git'), '+refs/remotes/origin/*:refs/remotes/origin/*', 'HEAD:refs/agentium/base']);

  await handOver(dir, options.owner);
  return { dir, git, remoteUrl, base, remoteBranchHead, defaultBranch };
}

/**
 * chown -R to the agent's uid, never following a symlink (repository content could point one at a
 * host file). Skipped when we are not root: local mode as a user (docs/local-mode.md).
 */
async function handOver(path: string, owner: { uid: number; gid: number }): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const stat = await lstat(path);
  await lchown(path, owner.uid, owner.gid);
  if (!stat.isDirectory()) return;
  for (const entry of await readdir(path)) await handOver(join(path, entry), owner);
}
