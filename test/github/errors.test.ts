import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient, fetchIssue, mintInstallationToken, upsertStatusComment, type AppCredentials } from '../../src/github/index.js';
import type { AgentiumError } from '../../src/errors.js';
import { AuthError, CapacityError, NotFoundError } from '../../src/errors.js';
import { startFakeGitHub, type FakeApp, type FakeGitHub } from '../fakes/github/index.js';

let github: FakeGitHub;
let app: FakeApp;
let installationId: number;
let credentials: AppCredentials;
const sleeps: number[] = [];
const sleep = async (ms: number) => {
  sleeps.push(ms);
};
const repo = { owner: 'acme', repo: 'widgets' };

beforeAll(async () => {
  github = await startFakeGitHub();
  app = github.state.createApp();
  await github.state.createRepo('acme/widgets');
  await github.state.createRepo('acme/secret-sauce');
  installationId = github.state.install(app, 'acme', ['widgets', 'secret-sauce']).id;
  credentials = { appId: app.id, privateKey: app.privateKey, apiUrl: github.apiUrl, sleep };
});
afterAll(() => github.close());
afterEach(() => {
  sleeps.length = 0;
  expect(github.violations.splice(0)).toEqual([]);
});

const tokenClient = (token: string) => createGitHubClient({ apiUrl: github.apiUrl, token, sleep });
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as AgentiumError);

describe('HTTP errors become clear errors with exit codes', () => {
  it('401: bad credentials → AuthError, exit 3', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const error = await failure(fetchIssue(tokenClient('ghs_notarealtoken'), repo, issue.number));
    expect(error).toBeInstanceOf(AuthError);
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toMatch(/rejected the credentials \(401\).*Bad credentials/);
    expect(error?.hint).toMatch(/appId/);
  });

  it('401: an expired token is refused like GitHub does', async () => {
    const token = github.state.mintToken({
      kind: 'installation', actor: app.bot, repositories: ['acme/widgets'], permissions: { issues: 'write' }, expiresAt: Date.now() - 1000,
    });
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    expect(await failure(fetchIssue(tokenClient(token.token), repo, issue.number))).toBeInstanceOf(AuthError);
  });

  it('403: missing permission → AuthError naming the permission', async () => {
    const token = github.state.mintToken({
      kind: 'installation', actor: app.bot, repositories: ['acme/widgets'], permissions: { issues: 'read' },
    });
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const error = await failure(upsertStatusComment({ client: tokenClient(token.token), repo, issueNumber: issue.number, body: 'hi', redact: (t) => t }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toMatch(/403.*Resource not accessible by integration/);
    expect(error?.hint).toMatch(/missing permission: GitHub accepts issues=write for this call/);
  });

  it('404: a token for another repository cannot see a private one → NotFoundError, exit 4', async () => {
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const issue = github.state.addIssue('acme/secret-sauce', { title: 'hidden' });
    const error = await failure(fetchIssue(tokenClient(token), { owner: 'acme', repo: 'secret-sauce' }, issue.number));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error?.exitCode).toBe(4);
    expect(error?.hint).toMatch(/cannot see the repository/);
  });

  it('403: a token for another (public) repository cannot write to it', async () => {
    const publicRepo = await github.state.createRepo('acme/open', { private: false });
    github.state.installations.get(installationId)?.repositories.push(publicRepo.name);
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const issue = github.state.addIssue('acme/open', { title: 'public' });
    const client = tokenClient(token);
    await expect(fetchIssue(client, { owner: 'acme', repo: 'open' }, issue.number)).resolves.toMatchObject({ title: 'public' });
    const error = await failure(upsertStatusComment({ client, repo: { owner: 'acme', repo: 'open' }, issueNumber: issue.number, body: 'x', redact: (t) => t }));
    expect(error).toBeInstanceOf(AuthError);
  });

  it('422: asking for a permission the installation lacks fails clearly', async () => {
    const narrow = github.state.install(app, 'acme', ['widgets'], { contents: 'read', metadata: 'read' });
    const error = await failure(mintInstallationToken(credentials, narrow.id, 'widgets'));
    expect(error?.kind).toBe('failure');
    expect(error?.message).toMatch(/422.*permissions requested are not granted/);
  });
});

describe('retries', () => {
  it('retries 5xx with backoff, then succeeds', async () => {
    github.failNext({ method: 'POST', path: /access_tokens$/, status: 502, times: 2 });
    const minted = await mintInstallationToken(credentials, installationId, 'widgets');
    expect(minted.token).toMatch(/^ghs_/);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('gives up after a bounded number of attempts', async () => {
    github.failNext({ method: 'POST', path: /access_tokens$/, status: 503, times: 3 });
    const error = await failure(mintInstallationToken({ ...credentials, maxAttempts: 3 }, installationId, 'widgets'));
    expect(error?.message).toMatch(/GitHub answered 503/);
    expect(sleeps).toHaveLength(2);
  });

  it('waits for Retry-After on a secondary rate limit', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    github.failNext({
      path: new RegExp(`/issues/${issue.number}$`),
      status: 403,
      headers: { 'retry-after': '7' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com' },
    });
    await expect(fetchIssue(tokenClient(token), repo, issue.number)).resolves.toMatchObject({ title: 't' });
    expect(sleeps).toEqual([7000]);
  });

  it('waits for the reset of an exhausted primary rate limit', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const reset = Math.floor(Date.now() / 1000) + 30;
    github.failNext({
      path: new RegExp(`/issues/${issue.number}$`),
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for installation.', documentation_url: 'https://docs.github.com' },
    });
    await fetchIssue(tokenClient(token), repo, issue.number);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(25_000);
    expect(sleeps[0]).toBeLessThanOrEqual(30_000);
  });

  it('does not resend a create (POST) after a 5xx: GitHub may have made it already', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    sleeps.length = 0;
    github.failNext({ method: 'POST', path: `/repos/acme/widgets/issues/${issue.number}/comments`, status: 502 });
    const error = await failure(tokenClient(token).request('POST', `/repos/acme/widgets/issues/${issue.number}/comments`, { body: { body: 'once' } }));
    expect(error?.message).toMatch(/GitHub answered 502/);
    expect(error?.details).toMatchObject({ status: 502, mayHaveTakenEffect: true });
    expect(github.requests.filter((r) => r.operationId === 'issues/create-comment' && r.url.includes(`/${issue.number}/`))).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('resends a rate-limited create: GitHub refused it before doing anything', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    github.failNext({ method: 'POST', path: `/repos/acme/widgets/issues/${issue.number}/comments`, status: 429, headers: { 'retry-after': '2' } });
    await tokenClient(token).request('POST', `/repos/acme/widgets/issues/${issue.number}/comments`, { body: { body: 'once' } });
    expect(sleeps).toEqual([2000]);
    expect(github.state.comments.filter((c) => c.issueNumber === issue.number && c.body === 'once')).toHaveLength(1);
  });

  const secondaryLimit = {
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    documentation_url: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api',
  };

  it('waits at least a minute, then longer, on a secondary rate limit without retry-after', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    github.failNext({ path: `/repos/acme/widgets/issues/${issue.number}`, status: 403, body: secondaryLimit, times: 2 });
    await expect(fetchIssue(tokenClient(token), repo, issue.number)).resolves.toMatchObject({ title: 't' });
    expect(sleeps).toEqual([60_000, 120_000]);
  });

  it('an exhausted rate limit is a CapacityError (exit 5) saying so, not a missing permission', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    // GitHub sends x-accepted-github-permissions on rate-limited answers too.
    github.failNext({
      path: `/repos/acme/widgets/issues/${issue.number}`, status: 403, body: secondaryLimit, times: 4, headers: { 'x-accepted-github-permissions': 'issues=read' },
    });
    const error = await failure(fetchIssue(tokenClient(token), repo, issue.number));
    expect(error).toBeInstanceOf(CapacityError);
    expect(error?.exitCode).toBe(5);
    expect(error?.message).toMatch(/rate limit.*\(403\).*secondary rate limit/);
    expect(error?.hint).toMatch(/wait a few minutes/);
    expect(error?.hint).not.toMatch(/permission/);
    expect(sleeps).toEqual([60_000, 120_000, 240_000]);
  });

  it('fails at once (exit 5, naming the reset) when the rate limit resets later than it is worth waiting', async () => {
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const reset = Math.floor(Date.now() / 1000) + 3600;
    github.failNext({
      path: `/repos/acme/widgets/issues/${issue.number}`,
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for installation.', documentation_url: 'https://docs.github.com' },
    });
    const error = await failure(fetchIssue(tokenClient(token), repo, issue.number));
    expect(error).toBeInstanceOf(CapacityError);
    expect(error?.hint).toContain(new Date(reset * 1000).toISOString());
    expect(sleeps).toEqual([]);
  });

  it('does not retry a plain 403', async () => {
    const token = github.state.mintToken({ kind: 'installation', actor: app.bot, repositories: ['acme/widgets'], permissions: {} });
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    await expect(fetchIssue(tokenClient(token.token), repo, issue.number)).rejects.toBeInstanceOf(AuthError);
    expect(sleeps).toEqual([]);
  });
});

describe('OpenAPI validation in the fake', () => {
  it('flags a deliberately wrong request body', async () => {
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const response = await fetch(`${github.apiUrl}/repos/acme/widgets/issues/${issue.number}/comments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'body is the field, not text' }),
    });
    expect(response.status).toBe(422);
    const violations = github.violations.splice(0);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/issues\/create-comment request: body .*must have required property 'body'/);
    expect(github.state.comments.filter((c) => c.issueNumber === issue.number)).toHaveLength(0);
  });

  it('flags a wrong permission level in the token request', async () => {
    const jwt = (await import('../../src/github/jwt.js')).createAppJwt(app.id, app.privateKey);
    await fetch(`${github.apiUrl}/app/installations/${installationId}/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repositories: 'widgets', permissions: { contents: 'admin' } }),
    });
    const violations = github.violations.splice(0);
    expect(violations.join('\n')).toMatch(/\/repositories must be array/);
    expect(violations.join('\n')).toMatch(/\/permissions\/contents must be equal to one of the allowed values/);
  });

  it('validates a request even when an injected fault answers it', async () => {
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    const issue = github.state.addIssue('acme/widgets', { title: 't' });
    const path = `/repos/acme/widgets/issues/${issue.number}/comments`;
    github.failNext({ method: 'POST', path, status: 502 });
    const send = (body: unknown) =>
      fetch(`${github.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await send({ text: 'wrong field' })).status).toBe(422);
    expect(github.violations.splice(0).join('\n')).toMatch(/issues\/create-comment request: body .*must have required property 'body'/);
    // The invalid request did not use the fault up: the next valid one gets it.
    expect((await send({ body: 'right field' })).status).toBe(502);
  });

  it('checks an injected fault response against the description too', async () => {
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    github.failNext({ path: '/repos/acme/widgets/pulls', status: 200, body: { not: 'a list' } });
    const response = await fetch(`${github.apiUrl}/repos/acme/widgets/pulls`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(500);
    expect(github.violations.splice(0).join('\n')).toMatch(/pulls\/list response: response 200 .*must be array/);
  });

  it('flags a call to an operation missing from the extract', async () => {
    await fetch(`${github.apiUrl}/repos/acme/widgets/hooks`, { headers: { authorization: 'Bearer x' } });
    expect(github.violations.splice(0)).toEqual([
      'GET /repos/acme/widgets/hooks is not an operation in test/fixtures/github-openapi.json',
    ]);
  });
});
