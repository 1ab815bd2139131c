import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appJwtClaims,
  createAppJwt,
  findRepoInstallation,
  installationTokenRequest,
  InstallationTokenHolder,
  mintInstallationToken,
  revokeInstallationToken,
  withInstallationToken,
  type AppCredentials,
  type InstallationToken,
} from '../../src/github/index.js';
import { AuthError, NotFoundError, UsageError } from '../../src/errors.js';
import { startFakeGitHub, type FakeApp, type FakeGitHub } from '../fakes/github/index.js';

let github: FakeGitHub;
let app: FakeApp;
let installationId: number;
let credentials: AppCredentials;

beforeAll(async () => {
  github = await startFakeGitHub();
  app = github.state.createApp({ slug: 'agentium-test' });
  await github.state.createRepo('acme/widgets');
  await github.state.createRepo('acme/gadgets');
  installationId = github.state.install(app, 'acme', ['widgets', 'gadgets'], {
    contents: 'write',
    pull_requests: 'write',
    issues: 'write',
    workflows: 'write',
    administration: 'write',
    metadata: 'read',
  }).id;
  credentials = { appId: app.id, privateKey: app.privateKey, apiUrl: github.apiUrl, sleep: async () => undefined };
});
afterAll(() => github.close());
afterEach(() => {
  expect(github.violations.splice(0)).toEqual([]);
});

describe('installation token request (checklist 9)', () => {
  it('names exactly one repository and exactly the three write permissions', () => {
    expect(installationTokenRequest('widgets')).toMatchInlineSnapshot(`
      {
        "permissions": {
          "contents": "write",
          "issues": "write",
          "pull_requests": "write",
        },
        "repositories": [
          "widgets",
        ],
      }
    `);
  });

  it('never asks for workflows, administration, secrets or actions', () => {
    const { permissions } = installationTokenRequest('widgets');
    for (const forbidden of ['workflows', 'administration', 'secrets', 'actions']) expect(permissions).not.toHaveProperty(forbidden);
  });

  it('refuses owner/name and path tricks as a repository name', () => {
    for (const bad of ['acme/widgets', '..', '', 'a b']) expect(() => installationTokenRequest(bad)).toThrow(UsageError);
  });

  it('is what goes on the wire, even when the installation grants more', async () => {
    const minted = await mintInstallationToken(credentials, installationId, 'widgets');
    const request = github.requests.findLast((r) => r.operationId === 'apps/create-installation-access-token');
    expect(request?.body).toEqual(installationTokenRequest('widgets'));
    const token = github.state.tokens.get(minted.token);
    expect(token?.repositories).toEqual(['acme/widgets']);
    expect(token?.permissions).toEqual({ contents: 'write', pull_requests: 'write', issues: 'write' });
    expect(minted.expiresAt).toBe(token?.expiresAt);
  });
});

describe('App JWT (checklist 8)', () => {
  it('has iat = now - 60 s, exp = iat + 600 s, iss = app id', () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    expect(appJwtClaims(42, now)).toEqual({ iat: now / 1000 - 60, exp: now / 1000 - 60 + 600, iss: '42' });
  });

  it('is RS256 and verified by the fake with the App public key', async () => {
    const before = Math.floor(Date.now() / 1000);
    await findRepoInstallation(credentials, { owner: 'acme', repo: 'widgets' });
    const request = github.requests.findLast((r) => r.operationId === 'apps/get-repo-installation');
    expect(request?.status).toBe(200);
    expect(request?.auth.kind).toBe('app');
    if (request?.auth.kind !== 'app') return;
    expect(request.auth.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(request.auth.appId).toBe(app.id);
    const { iat, exp, iss } = request.auth.claims as { iat: number; exp: number; iss: string };
    expect(iss).toBe(String(app.id));
    expect(iat).toBeGreaterThanOrEqual(before - 61);
    expect(iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 59);
    expect(exp - iat).toBeLessThanOrEqual(600);
  });

  it('accepts the client id as iss, and the fake verifies it against that App', async () => {
    const installation = await findRepoInstallation({ ...credentials, appId: app.clientId }, { owner: 'acme', repo: 'widgets' });
    expect(installation.id).toBe(installationId);
    const request = github.requests.findLast((r) => r.operationId === 'apps/get-repo-installation');
    expect(request?.status).toBe(200);
    expect(request?.auth.kind === 'app' && request.auth.claims.iss).toBe(app.clientId);
    const unknown = await findRepoInstallation({ ...credentials, appId: 'Iv23liffffffffffffff' }, { owner: 'acme', repo: 'widgets' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AuthError);
  });

  it('signed by another key is refused with an AuthError (exit 3)', async () => {
    const other = github.state.createApp();
    const forged = { ...credentials, privateKey: other.privateKey };
    const error = await findRepoInstallation(forged, { owner: 'acme', repo: 'widgets' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).exitCode).toBe(3);
    expect((error as AuthError).message).toContain('A JSON web token could not be decoded');
  });

  it('from a clock 20 minutes behind GitHub is refused as expired', async () => {
    const skewed = { ...credentials, now: () => Date.now() - 20 * 60_000 };
    await expect(findRepoInstallation(skewed, { owner: 'acme', repo: 'widgets' })).rejects.toThrow(/'exp'/);
  });

  it('rejects a key that is not a PEM RSA key with a config error', () => {
    expect(() => createAppJwt(1, 'not a key')).toThrow(/not a valid PEM/);
  });
});

describe('installation lookup', () => {
  it('finds the installation id for a repository', async () => {
    expect(await findRepoInstallation(credentials, { owner: 'acme', repo: 'widgets' })).toEqual({ id: installationId, appSlug: 'agentium-test' });
  });

  it('says the App is not installed when it is not (NotFoundError, exit 4)', async () => {
    await github.state.createRepo('other/thing');
    const error = await findRepoInstallation(credentials, { owner: 'other', repo: 'thing' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).exitCode).toBe(4);
    expect((error as NotFoundError).hint).toMatch(/App not installed on the repo/);
  });
});

describe('revocation (checklist 10)', () => {
  it('revokes the token after the work succeeds', async () => {
    let seen = '';
    const result = await withInstallationToken({ credentials, installationId, repoName: 'widgets' }, async (holder) => {
      seen = await holder.token();
      return 'done';
    });
    expect(result).toBe('done');
    expect(github.state.tokens.get(seen)?.revoked).toBe(true);
    const revoke = github.requests.findLast((r) => r.operationId === 'apps/revoke-installation-access-token');
    expect(revoke?.auth).toEqual({ kind: 'token', token: seen });
    expect(revoke?.status).toBe(204);
  });

  it('revokes the token when the work fails, and keeps the work error', async () => {
    let seen = '';
    const failure = withInstallationToken({ credentials, installationId, repoName: 'widgets' }, async (holder) => {
      seen = await holder.token();
      throw new Error('agent crashed');
    });
    await expect(failure).rejects.toThrow('agent crashed');
    expect(github.state.tokens.get(seen)?.revoked).toBe(true);
  });

  it('a revoked token is refused afterwards', async () => {
    const { token } = await mintInstallationToken(credentials, installationId, 'widgets');
    await revokeInstallationToken(token, credentials);
    await expect(revokeInstallationToken(token, credentials)).rejects.toBeInstanceOf(AuthError);
  });
});

describe('refresh before expiry (checklist 12)', () => {
  it('re-mints when less than the margin is left and revokes the replaced token', async () => {
    let now = 0;
    let minted = 0;
    const revoked: string[] = [];
    const holder = new InstallationTokenHolder({
      now: () => now,
      refreshBeforeMs: 5 * 60_000,
      mint: async (): Promise<InstallationToken> => ({ token: `t${++minted}`, expiresAt: now + 60 * 60_000, permissions: {} }),
      revoke: async (token) => {
        revoked.push(token);
      },
    });
    expect(await holder.token()).toBe('t1');
    now = 54 * 60_000; // 6 minutes left: keep
    expect(await holder.token()).toBe('t1');
    now = 56 * 60_000; // 4 minutes left: refresh
    expect(await holder.token()).toBe('t2');
    expect(revoked).toEqual(['t1']);
    await holder.revoke();
    expect(revoked).toEqual(['t1', 't2']);
  });

  it('concurrent callers share one mint', async () => {
    let minted = 0;
    const holder = new InstallationTokenHolder({
      mint: async () => ({ token: `t${++minted}`, expiresAt: Date.now() + 3_600_000, permissions: {} }),
      revoke: async () => undefined,
    });
    expect(await Promise.all([holder.token(), holder.token(), holder.token()])).toEqual(['t1', 't1', 't1']);
  });

  it('against the fake: a session outliving the token keeps a valid one', async () => {
    let clock = Date.now();
    const timed = await startFakeGitHub({ now: () => clock });
    try {
      const timedApp = timed.state.createApp();
      await timed.state.createRepo('acme/widgets');
      const id = timed.state.install(timedApp, 'acme', ['widgets']).id;
      const creds: AppCredentials = { appId: timedApp.id, privateKey: timedApp.privateKey, apiUrl: timed.apiUrl, now: () => clock };
      await withInstallationToken({ credentials: creds, installationId: id, repoName: 'widgets' }, async (holder) => {
        const first = await holder.token();
        clock += 55 * 60_000;
        const second = await holder.token();
        expect(second).not.toBe(first);
        expect(timed.state.tokens.get(first)?.revoked).toBe(true);
        clock += 30 * 60_000; // the first would have expired by now
        expect(timed.state.tokenProblem(timed.state.tokens.get(second))).toBeUndefined();
      });
      expect(timed.violations).toEqual([]);
    } finally {
      await timed.close();
    }
  });
});
