/**
 * The session's pull request: at most one open PR per issue, from `agentium/issue-<N>`. A second
 * run updates it instead of opening a duplicate.
 */
import { AgentiumError } from '../errors.js';
import type { RepoRef } from './app.js';
import type { GitHubClient } from './client.js';

export { issueBranch } from '../session/spec.js';
import { issueBranch } from '../session/spec.js';

export interface PullRequestRef {
  number: number;
  htmlUrl: string;
  draft: boolean;
}

interface RawPull {
  number: number;
  html_url: string;
  draft?: boolean;
  head: { ref: string };
}

const repoPath = (repo: RepoRef) => `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}`;

/** The open PR whose head is `agentium/issue-<N>` in the repository itself (not a fork), if any. */
export async function findIssuePullRequest(client: GitHubClient, repo: RepoRef, issueNumber: number): Promise<PullRequestRef | undefined> {
  const branch = issueBranch(issueNumber);
  const pulls = await client.paginate<RawPull>(`${repoPath(repo)}/pulls`, {
    query: { state: 'open', head: `${repo.owner}:${branch}` },
    action: `look for an open pull request from ${branch}`,
  });
  const pull = pulls.find((candidate) => candidate.head.ref === branch);
  return pull && { number: pull.number, htmlUrl: pull.html_url, draft: pull.draft ?? false };
}

/** PR body: the redacted text, guaranteed to close the issue. */
export function pullRequestBody(issueNumber: number, body: string, redact: (text: string) => string): string {
  const text = redact(body).trimEnd();
  const closes = new RegExp(`\\bCloses #${issueNumber}\\b`);
  return closes.test(text) ? text : `${text}${text ? '\n\n' : ''}Closes #${issueNumber}`;
}

export interface PullRequestOptions {
  client: GitHubClient;
  repo: RepoRef;
  issueNumber: number;
  /** The branch the PR merges into (the repository's default branch). */
  base: string;
  title: string;
  body: string;
  redact: (text: string) => string;
}

/** GitHub's 422 when an open PR from the head branch exists (one our list did not show yet, or a concurrent run's). */
function isAlreadyExists(error: unknown): boolean {
  if (!(error instanceof AgentiumError) || error.details?.status !== 422) return false;
  return /already exists/i.test(error.message);
}

/**
 * Open a draft PR for the issue branch, or update the open one (dedupe across runs). Safe to
 * repeat: after a lost answer to the create the rerun finds the PR and updates it, and a 422
 * "A pull request already exists" is answered the same way.
 */
export async function openOrUpdatePullRequest(options: PullRequestOptions): Promise<PullRequestRef & { created: boolean }> {
  const { client, repo, issueNumber } = options;
  const title = options.redact(options.title);
  const body = pullRequestBody(issueNumber, options.body, options.redact);
  const update = async (existing: PullRequestRef, created: boolean) => {
    const { data } = await client.request<RawPull>('PATCH', `${repoPath(repo)}/pulls/${existing.number}`, {
      body: { title, body },
      action: `update pull request #${existing.number}`,
    });
    return { number: data.number, htmlUrl: data.html_url, draft: data.draft ?? false, created };
  };
  let posted = false;
  return client.rerunOnAmbiguousFailure(async () => {
    const existing = await findIssuePullRequest(client, repo, issueNumber);
    // Found after our own lost create: this run opened it.
    if (existing) return update(existing, posted);
    posted = true;
    try {
      const { data } = await client.request<RawPull>('POST', `${repoPath(repo)}/pulls`, {
        body: { title, body, head: issueBranch(issueNumber), base: options.base, draft: true },
        action: `open a pull request for issue #${issueNumber}`,
      });
      return { number: data.number, htmlUrl: data.html_url, draft: data.draft ?? true, created: true };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const found = await findIssuePullRequest(client, repo, issueNumber);
      if (!found) throw error;
      return update(found, false);
    }
  });
}
