/**
 * Step 6a: turn what the agent left in the workspace into the one candidate commit the policy gate
 * judges and the publish step pushes. Everything runs in the controller's own repository with the
 * workspace only as a work tree (GIT_WORK_TREE) and our own index: the workspace's `.git` (config,
 * hooks, refs, index) is never read by a git that could act on it. The candidate's parent is the
 * trusted base recorded before the agent ran, so the push can only be a fast-forward of the remote
 * issue branch; its tree is the agent's final work tree.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { issueRef, parseNameStatus, type ChangedFile } from './policy.js';
import type { CommitIdentity } from './token.js';
import type { Workspace } from './workspace.js';

export interface Candidate {
  /** The commit to push, or undefined when the agent changed nothing. */
  commit: string | undefined;
  base: string;
  ref: string;
  fastForward: boolean;
  files: ChangedFile[];
  /** `git diff -U0 --text base commit`. */
  patch: string;
}

export async function collectChanges(options: {
  workspace: Workspace;
  stateDir: string;
  issue: number;
  identity: CommitIdentity;
  message: string;
  /** policy.maxDiffBytes: the patch is read up to one byte past it (the gate then refuses). */
  maxDiffBytes: number;
  /** Commit date (seconds since epoch). */
  nowSeconds: number;
}): Promise<Candidate> {
  const { workspace, identity } = options;
  const { git, base } = workspace;
  const ref = issueRef(options.issue);
  const indexFile = join(options.stateDir, 'candidate.index');
  await rm(indexFile, { force: true });
  const inTree = { workTree: workspace.dir, indexFile };
  await git(['read-tree', base], inTree);
  // The work tree as the agent left it (.gitignore honoured, `.git` never added, symlinks stay links).
  await git(['add', '--all', '--', '.'], inTree);
  const tree = (await git(['write-tree'], inTree)).trim();
  await rm(indexFile, { force: true });
  const baseTree = (await git(['rev-parse', `${base}^{tree}`])).trim();
  if (tree === baseTree) return { commit: undefined, base, ref, fastForward: true, files: [], patch: '' };

  const date = `${options.nowSeconds} +0000`;
  const commit = (
    await git(['commit-tree', tree, '-p', base, '-F', '-'], {
      input: options.message,
      env: {
        GIT_AUTHOR_NAME: identity.name,
        GIT_AUTHOR_EMAIL: identity.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: identity.name,
        GIT_COMMITTER_EMAIL: identity.email,
        GIT_COMMITTER_DATE: date,
      },
    })
  ).trim();
  await git(['update-ref', ref, commit]);
  const fastForward =
    workspace.remoteBranchHead === undefined ||
    (await git(['merge-base', '--is-ancestor', workspace.remoteBranchHead, commit]).then(
      () => true,
      () => false,
    ));
  const files = parseNameStatus(await git(['diff', '--name-status', '-z', '--no-renames', base, commit]));
  const patch = await git(['diff', '--no-color', '--no-ext-diff', '--text', '--no-renames', '-U0', base, commit], {
    maxOutputBytes: options.maxDiffBytes + 1,
  });
  return { commit, base, ref, fastForward, files, patch };
}
