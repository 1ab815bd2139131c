/**
 * Issues: what the agent is asked to do, and the one status comment Agentium keeps on the issue.
 * Issue text is untrusted (anyone who can comment can write it): it is returned as data for the
 * agent's prompt file and must never be interpolated into a shell command.
 */
import { AuthError, PolicyError, UsageError } from '../errors.js';
import type { RepoRef } from './app.js';
import type { GitHubClient } from './client.js';

export interface IssueComment {
  id: number;
  author: string | null;
  body: string;
  createdAt: string;
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  state: 'open';
  labels: string[];
  author: string | null;
  htmlUrl: string;
  comments: IssueComment[];
}

interface RawUser {
  login: string;
  type?: string;
}
interface RawIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  html_url: string;
  user: RawUser | null;
  labels: Array<string | { name?: string }>;
  pull_request?: unknown;
}
interface RawComment {
  id: number;
  body?: string;
  user: RawUser | null;
  created_at: string;
  html_url: string;
}

const repoPath = (repo: RepoRef) => `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}`;

/** Fetch an open issue with its comments; closed issues are a policy refusal, missing ones NotFound. */
export async function fetchIssue(client: GitHubClient, repo: RepoRef, issueNumber: number): Promise<Issue> {
  const where = `issue #${issueNumber} of ${repo.owner}/${repo.repo}`;
  const { data } = await client.request<RawIssue>('GET', `${repoPath(repo)}/issues/${issueNumber}`, {
    action: `fetch ${where}`,
    notFoundHint: `${where} does not exist (or was deleted), or the credentials cannot see the repository`,
  });
  if (data.pull_request !== undefined) {
    throw new UsageError(`#${issueNumber} in ${repo.owner}/${repo.repo} is a pull request, not an issue`);
  }
  if (data.state !== 'open') {
    throw new PolicyError(`${where} is ${data.state}; Agentium only works on open issues`, {
      hint: 'reopen the issue if there is still work to do',
      details: { issue: issueNumber, state: data.state },
    });
  }
  const comments = await client.paginate<RawComment>(`${repoPath(repo)}/issues/${issueNumber}/comments`, {
    action: `list the comments of ${where}`,
  });
  return {
    number: data.number,
    title: data.title,
    body: data.body ?? '',
    state: 'open',
    labels: data.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).filter(Boolean),
    author: data.user?.login ?? null,
    htmlUrl: data.html_url,
    comments: comments.map((comment) => ({
      id: comment.id,
      author: comment.user?.login ?? null,
      body: comment.body ?? '',
      createdAt: comment.created_at,
    })),
  };
}

/** Hidden marker that identifies Agentium's status comment on an issue. */
export const STATUS_COMMENT_MARKER = '<!-- agentium:status -->';

export interface StatusCommentOptions {
  client: GitHubClient;
  repo: RepoRef;
  issueNumber: number;
  /** Markdown to post; passed through `redact` before it leaves the machine. */
  body: string;
  redact: (text: string) => string;
  /**
   * The login our comments are written by: `<slug>[bot]` for an App. When undefined (token mode),
   * it is asked of GitHub with `GET /user`.
   */
  botLogin?: string;
}

/** The login of the account a token acts as (`GET /user`); undefined for an App installation token, which has none. */
export async function authenticatedLogin(client: GitHubClient): Promise<string | undefined> {
  try {
    const { data } = await client.request<RawUser>('GET', '/user', { action: 'find out which account the token writes as' });
    return data.login;
  } catch (error) {
    // GitHub answers 403 "Resource not accessible by integration" to installation tokens (e.g. Actions' GITHUB_TOKEN).
    if (error instanceof AuthError && error.details?.status === 403) return undefined;
    throw error;
  }
}

const sameLogin = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Create Agentium's one status comment on the issue, or update it if it exists. Only a comment
 * written by the identity we post as counts: anyone can paste the marker into their own comment,
 * and GitHub refuses (403) an edit of someone else's. Safe to repeat after a lost answer: a rerun
 * finds the comment the failed attempt made instead of posting a second.
 */
export async function upsertStatusComment(options: StatusCommentOptions): Promise<{ id: number; created: boolean; htmlUrl: string }> {
  const { client, repo, issueNumber } = options;
  const body = `${STATUS_COMMENT_MARKER}\n${options.redact(options.body)}`;
  // Unknown only for an installation token without a configured slug: then no comment can be proven ours, post a new one.
  const login = options.botLogin ?? (await authenticatedLogin(client));
  let posted = false;
  return client.rerunOnAmbiguousFailure(async () => {
    const comments = await client.paginate<RawComment>(`${repoPath(repo)}/issues/${issueNumber}/comments`, {
      action: `list the comments of issue #${issueNumber}`,
    });
    const ours =
      login === undefined
        ? undefined
        : comments.find((comment) => (comment.body ?? '').startsWith(STATUS_COMMENT_MARKER) && sameLogin(comment.user?.login, login));
    if (ours) {
      const { data } = await client.request<RawComment>('PATCH', `${repoPath(repo)}/issues/comments/${ours.id}`, {
        body: { body },
        action: `update the status comment on issue #${issueNumber}`,
      });
      // Found after our own lost create: this run made it.
      return { id: data.id, created: posted, htmlUrl: data.html_url };
    }
    posted = true;
    const { data } = await client.request<RawComment>('POST', `${repoPath(repo)}/issues/${issueNumber}/comments`, {
      body: { body },
      action: `comment on issue #${issueNumber}`,
    });
    return { id: data.id, created: true, htmlUrl: data.html_url };
  });
}
