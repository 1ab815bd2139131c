/**
 * A fake GitHub on 127.0.0.1 that behaves like GitHub where it matters for security: it checks App
 * JWTs (RS256 signature with the App's public key, iat/exp/iss), mints down-scoped installation
 * tokens that expire and can be revoked, refuses tokens for another repository or without the
 * needed permission, validates every request and response against GitHub's OpenAPI description,
 * and serves real git over smart HTTP with GitHub's push rules.
 *
 * Usage (also by the controller tests and the simulator):
 *
 *   const github = await startFakeGitHub();            // { now?: () => ms } for a fake clock
 *   const app = github.state.createApp();              // app.id, app.privateKey (PEM)
 *   await github.state.createRepo('acme/widgets', { files: { 'README.md': '# hi\n' } });
 *   github.state.install(app, 'acme', ['widgets']);    // contents/pull_requests/issues: write
 *   github.state.addIssue('acme/widgets', { title: 'Fix it', body: '...' });
 *   // point the code under test at github.apiUrl (GHES layout: http://127.0.0.1:PORT/api/v3)
 *   // and clone from github.gitUrl('acme', 'widgets') (http://127.0.0.1:PORT/acme/widgets.git)
 *   expect(github.violations).toEqual([]);             // OpenAPI problems, if any
 *   github.requests                                    // every request, for assertions
 *   github.failNext({ path: /access_tokens$/, status: 502, times: 2 }) // inject faults
 *   github.failNext({ method: 'POST', path: /pulls$/, status: 502, afterHandling: true }) // made, answer lost
 *   await github.close();
 */
import { verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveGitHttp } from './git-http.js';
import {
  authenticatedUserObject,
  commentObject,
  installationObject,
  issueObject,
  pullObject,
  pullSimpleObject,
  repositoryObject,
  type Urls,
} from './objects.js';
import { GitHubOpenApi, type Operation } from './openapi.js';
import { FakeGitHubState, satisfies, type FakeApp, type FakeRepo, type FakeToken, type Permission, type Permissions } from './state.js';

export type { FakeApp, FakeRepo, FakeToken, Permissions } from './state.js';
export { FakeGitHubState } from './state.js';

export type RequestAuth =
  | { kind: 'none' }
  | { kind: 'app'; appId: number; claims: Record<string, unknown>; header: Record<string, unknown> }
  | { kind: 'token'; token: string };

export interface RecordedRequest {
  kind: 'api' | 'git';
  method: string;
  /** Path and query as received (what a proxy log would show). */
  url: string;
  operationId?: string;
  headers: IncomingMessage['headers'];
  body?: unknown;
  auth: RequestAuth;
  status?: number;
}

export interface Fault {
  method?: string;
  /** Matched against the API path without the /api/v3 prefix. */
  path: string | RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
  /**
   * Carry the request out first, then answer with the fault instead of the real response: GitHub
   * made the object but the answer was lost (a 502 from a proxy after the write).
   */
  afterHandling?: boolean;
}

export interface FakeGitHub {
  apiUrl: string;
  htmlUrl: string;
  gitUrl(owner: string, repo: string): string;
  state: FakeGitHubState;
  requests: RecordedRequest[];
  /** OpenAPI mismatches of requests and of the fake's own responses; a test should expect []. */
  violations: string[];
  failNext(fault: Fault): void;
  close(): Promise<void>;
}

export interface StartFakeGitHubOptions {
  /** Clock in epoch ms for JWT and token expiry (default Date.now). */
  now?: () => number;
}

const API_PREFIX = '/api/v3';
const DOCS = 'https://docs.github.com/rest';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Context {
  op: Operation;
  query: URLSearchParams;
  body: Record<string, unknown>;
  auth: RequestAuth;
  urls: Urls;
}

let openApi: GitHubOpenApi | undefined;

export async function startFakeGitHub(options: StartFakeGitHubOptions = {}): Promise<FakeGitHub> {
  openApi ??= new GitHubOpenApi();
  const spec = openApi;
  const gitRoot = await mkdtemp(join(tmpdir(), 'fake-github-'));
  const state = new FakeGitHubState(gitRoot, options.now ?? Date.now);
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const faults: Fault[] = [];
  let urls: Urls = { api: '', html: '' };

  // ---- authentication ---------------------------------------------------------------------

  function decodeJwt(jwt: string): { app: FakeApp; claims: Record<string, unknown>; header: Record<string, unknown> } {
    const [h = '', p = '', s = ''] = jwt.split('.');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      throw new HttpError(401, 'A JSON web token could not be decoded');
    }
    if (header.alg !== 'RS256') throw new HttpError(401, "'alg' must be RS256");
    // Like GitHub: the issuer is the App's numeric id or its client id.
    const iss = String(claims.iss);
    const app = /^[0-9]+$/.test(iss)
      ? state.apps.get(Number(iss))
      : [...state.apps.values()].find((candidate) => candidate.clientId === iss);
    if (!app) throw new HttpError(401, "'Issuer' claim ('iss') must be an Integer or the App's client id");
    if (!verify('sha256', Buffer.from(`${h}.${p}`), app.publicKey, Buffer.from(s, 'base64url'))) {
      throw new HttpError(401, 'A JSON web token could not be decoded');
    }
    const now = Math.floor(state.now() / 1000);
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now) {
      throw new HttpError(401, "'Issued at' claim ('iat') must be an Integer representing a time in the past.");
    }
    if (typeof exp !== 'number' || !Number.isInteger(exp) || exp <= now) {
      throw new HttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    }
    if (exp - iat > 600) throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future.");
    return { app, claims, header };
  }

  function parseAuth(req: IncomingMessage): RequestAuth {
    const header = req.headers.authorization ?? '';
    const match = /^(?:bearer|token)\s+(\S+)$/i.exec(header);
    if (!match) return { kind: 'none' };
    const credential = match[1] as string;
    if (credential.split('.').length === 3) {
      try {
        const { app, claims, header: jwtHeader } = decodeJwt(credential);
        return { kind: 'app', appId: app.id, claims, header: jwtHeader };
      } catch {
        // Re-decoded (and rejected) by requireApp, so the recorded auth still says what was sent.
        const [h = '', p = ''] = credential.split('.');
        const safe = (part: string) => {
          try {
            return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
          } catch {
            return {};
          }
        };
        return { kind: 'app', appId: Number.NaN, claims: safe(p), header: safe(h) };
      }
    }
    return { kind: 'token', token: credential };
  }

  function requireApp(req: IncomingMessage): FakeApp {
    const match = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new HttpError(401, 'Requires authentication');
    if ((match[1] as string).split('.').length !== 3) {
      throw new HttpError(401, 'A JSON web token could not be decoded');
    }
    return decodeJwt(match[1] as string).app;
  }

  function requireToken(ctx: Context, repo: FakeRepo, permission: string, level: Permission): FakeToken {
    if (ctx.auth.kind === 'none') throw new HttpError(401, 'Requires authentication');
    if (ctx.auth.kind === 'app') throw new HttpError(403, 'Resource not accessible by integration');
    const token = state.tokens.get(ctx.auth.token);
    const problem = state.tokenProblem(token);
    if (problem || !token) throw new HttpError(401, problem ?? 'Bad credentials');
    const fullName = `${repo.owner.login}/${repo.name}`.toLowerCase();
    const inScope = !token.repositories || token.repositories.some((r) => r.toLowerCase() === fullName);
    if (!inScope) {
      if (repo.private) throw new HttpError(404, 'Not Found');
      if (level === 'write') throw new HttpError(403, 'Resource not accessible by integration');
      return token;
    }
    if (!satisfies(token.permissions[permission], level)) {
      throw new HttpError(403, 'Resource not accessible by integration', { 'x-accepted-github-permissions': `${permission}=${level}` });
    }
    return token;
  }

  function repoOf(ctx: Context): FakeRepo {
    const repo = state.repo(`${ctx.op.params.owner}/${ctx.op.params.repo}`);
    if (!repo) throw new HttpError(404, 'Not Found');
    return repo;
  }

  function paginate<T>(items: T[], ctx: Context, path: string): Reply & { body: T[] } {
    const perPage = Math.min(Math.max(Number(ctx.query.get('per_page') ?? 30) || 30, 1), 100);
    const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const link = (n: number, rel: string) => {
      const query = new URLSearchParams(ctx.query);
      query.set('page', String(n));
      return `<${urls.api}${path}?${query.toString()}>; rel="${rel}"`;
    };
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
  }

  const validationFailed = (errors: Array<Record<string, unknown>>, message = 'Validation Failed') =>
    new HttpError(422, message, {}, { errors });

  // ---- operations -------------------------------------------------------------------------

  const handlers: Record<string, (ctx: Context, req: IncomingMessage) => Promise<Reply> | Reply> = {
    'apps/get-repo-installation': (ctx, req) => {
      const app = requireApp(req);
      const installation = state.installationFor(app.id, `${ctx.op.params.owner}/${ctx.op.params.repo}`);
      if (!installation) throw new HttpError(404, 'Not Found');
      return { status: 200, body: installationObject(urls, installation, app.slug) };
    },

    'apps/create-installation-access-token': (ctx, req) => {
      const app = requireApp(req);
      const installation = state.installations.get(Number(ctx.op.params.installation_id));
      if (!installation || installation.appId !== app.id) throw new HttpError(404, 'Not Found');
      const names = (ctx.body.repositories as string[] | undefined) ?? [];
      const ids = (ctx.body.repository_ids as number[] | undefined) ?? [];
      const granted = installation.repositories.map((name) => state.repo(`${installation.account.login}/${name}`)).filter((r): r is FakeRepo => !!r);
      const chosen = names.length || ids.length ? [] : granted;
      for (const name of names) {
        const repo = granted.find((r) => r.name.toLowerCase() === name.toLowerCase());
        if (!repo) throw new HttpError(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.');
        chosen.push(repo);
      }
      for (const id of ids) {
        const repo = granted.find((r) => r.id === id);
        if (!repo) throw new HttpError(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.');
        chosen.push(repo);
      }
      const requested = (ctx.body.permissions as Permissions | undefined) ?? installation.permissions;
      for (const [name, level] of Object.entries(requested)) {
        if (!satisfies(installation.permissions[name], level)) {
          throw new HttpError(422, 'The permissions requested are not granted to this installation.');
        }
      }
      const token = state.mintToken({
        kind: 'installation',
        installationId: installation.id,
        actor: app.bot,
        repositories: chosen.map((r) => `${r.owner.login}/${r.name}`),
        permissions: { ...requested },
      });
      return {
        status: 201,
        body: {
          token: token.token,
          expires_at: new Date(token.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: token.permissions,
          repository_selection: 'selected',
          repositories: chosen.map((repo) => repositoryObject(urls, repo)),
        },
      };
    },

    'apps/revoke-installation-access-token': (ctx) => {
      if (ctx.auth.kind !== 'token') throw new HttpError(401, 'Requires authentication');
      const token = state.tokens.get(ctx.auth.token);
      if (state.tokenProblem(token) || !token || token.kind !== 'installation') throw new HttpError(401, 'Bad credentials');
      token.revoked = true;
      return { status: 204 };
    },

    'users/get-authenticated': (ctx) => {
      if (ctx.auth.kind === 'none') throw new HttpError(401, 'Requires authentication');
      // Like GitHub: an App (JWT or installation token) is not a user and cannot read /user.
      if (ctx.auth.kind === 'app') throw new HttpError(403, 'Resource not accessible by integration');
      const token = state.tokens.get(ctx.auth.token);
      const problem = state.tokenProblem(token);
      if (problem || !token) throw new HttpError(401, problem ?? 'Bad credentials');
      if (token.kind === 'installation') throw new HttpError(403, 'Resource not accessible by integration');
      return { status: 200, body: authenticatedUserObject(urls, token.actor, state.now()) };
    },

    'issues/get': (ctx) => {
      const repo = repoOf(ctx);
      const number = Number(ctx.op.params.issue_number);
      const pull = state.pulls.find((p) => p.repoId === repo.id && p.number === number);
      requireToken(ctx, repo, pull ? 'pull_requests' : 'issues', 'read');
      if (pull) {
        const asIssue = { ...pull, labels: [] as string[], comments: 0 };
        return { status: 200, body: issueObject(urls, repo, asIssue, pull) };
      }
      const issue = state.issues.find((i) => i.repoId === repo.id && i.number === number);
      if (!issue) throw new HttpError(404, 'Not Found');
      return { status: 200, body: issueObject(urls, repo, issue) };
    },

    'issues/list-comments': (ctx) => {
      const repo = repoOf(ctx);
      requireToken(ctx, repo, 'issues', 'read');
      const number = Number(ctx.op.params.issue_number);
      const exists = state.issues.some((i) => i.repoId === repo.id && i.number === number) || state.pulls.some((p) => p.repoId === repo.id && p.number === number);
      if (!exists) throw new HttpError(404, 'Not Found');
      const comments = state.comments.filter((c) => c.repoId === repo.id && c.issueNumber === number).map((c) => commentObject(urls, repo, c));
      return paginate(comments, ctx, `/repos/${repo.owner.login}/${repo.name}/issues/${number}/comments`);
    },

    'issues/create-comment': (ctx) => {
      const repo = repoOf(ctx);
      const token = requireToken(ctx, repo, 'issues', 'write');
      const number = Number(ctx.op.params.issue_number);
      if (!state.issues.some((i) => i.repoId === repo.id && i.number === number)) throw new HttpError(404, 'Not Found');
      const comment = state.addComment(`${repo.owner.login}/${repo.name}`, number, ctx.body.body as string, token.actor, token.kind === 'installation');
      return { status: 201, body: commentObject(urls, repo, comment) };
    },

    'issues/update-comment': (ctx) => {
      const repo = repoOf(ctx);
      const token = requireToken(ctx, repo, 'issues', 'write');
      const comment = state.comments.find((c) => c.repoId === repo.id && c.id === Number(ctx.op.params.comment_id));
      if (!comment) throw new HttpError(404, 'Not Found');
      if (comment.user.id !== token.actor.id) throw new HttpError(403, 'Resource not accessible by integration');
      comment.body = ctx.body.body as string;
      comment.updatedAt = state.now();
      return { status: 200, body: commentObject(urls, repo, comment) };
    },

    'pulls/list': (ctx) => {
      const repo = repoOf(ctx);
      requireToken(ctx, repo, 'pull_requests', 'read');
      const wanted = ctx.query.get('state') ?? 'open';
      const head = ctx.query.get('head');
      const base = ctx.query.get('base');
      const pulls = state.pulls.filter((p) => {
        if (p.repoId !== repo.id) return false;
        if (wanted !== 'all' && p.state !== wanted) return false;
        // GitHub's head filter is "user:ref-name"; the PRs here are all from the repo itself.
        if (head && `${repo.owner.login}:${p.head}`.toLowerCase() !== head.toLowerCase()) return false;
        return !base || p.base === base;
      });
      return paginate(
        pulls.map((p) => pullSimpleObject(urls, repo, p)),
        ctx,
        `/repos/${repo.owner.login}/${repo.name}/pulls`,
      );
    },

    'pulls/create': async (ctx) => {
      const repo = repoOf(ctx);
      const token = requireToken(ctx, repo, 'pull_requests', 'write');
      const head = String(ctx.body.head).replace(new RegExp(`^${repo.owner.login}:`, 'i'), '');
      const base = String(ctx.body.base);
      if (typeof ctx.body.title !== 'string' && ctx.body.issue === undefined) {
        throw validationFailed([{ resource: 'PullRequest', field: 'title', code: 'missing_field' }]);
      }
      const headSha = await state.branchSha(repo, head);
      if (!headSha) throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      const baseSha = await state.branchSha(repo, base);
      if (!baseSha) throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if (state.pulls.some((p) => p.repoId === repo.id && p.state === 'open' && p.head === head && p.base === base)) {
        throw validationFailed([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner.login}:${head}.` }]);
      }
      if (headSha === baseSha) {
        throw validationFailed([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
      }
      const pull = state.addPull(repo, {
        title: String(ctx.body.title ?? ''),
        body: (ctx.body.body as string | undefined) ?? null,
        head,
        headSha,
        base,
        baseSha,
        draft: ctx.body.draft === true,
        user: token.actor,
      });
      return { status: 201, body: pullObject(urls, repo, pull) };
    },

    'pulls/update': async (ctx) => {
      const repo = repoOf(ctx);
      requireToken(ctx, repo, 'pull_requests', 'write');
      const pull = state.pulls.find((p) => p.repoId === repo.id && p.number === Number(ctx.op.params.pull_number));
      if (!pull) throw new HttpError(404, 'Not Found');
      if (typeof ctx.body.title === 'string') pull.title = ctx.body.title;
      if (typeof ctx.body.body === 'string') pull.body = ctx.body.body;
      if (ctx.body.state === 'open' || ctx.body.state === 'closed') pull.state = ctx.body.state;
      if (typeof ctx.body.base === 'string') pull.base = ctx.body.base;
      pull.headSha = (await state.branchSha(repo, pull.head)) ?? pull.headSha;
      pull.updatedAt = state.now();
      return { status: 200, body: pullObject(urls, repo, pull) };
    },
  };

  // ---- git smart HTTP -----------------------------------------------------------------------

  async function handleGit(req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray, record: RecordedRequest) {
    const [, owner = '', repoName = '', rest = ''] = match;
    const repo = state.repo(`${owner}/${repoName}`);
    const service = rest === '/info/refs' ? url.searchParams.get('service') : rest.slice(1);
    const deny = (status: number, message: string, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`${message}\n`);
    };
    if (!repo || (service !== 'git-upload-pack' && service !== 'git-receive-pack')) return deny(404, 'Repository not found.');
    const basic = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const password = basic ? Buffer.from(basic[1] as string, 'base64').toString('utf8').split(':').slice(1).join(':') : '';
    if (password) record.auth = { kind: 'token', token: password };
    const token = state.tokens.get(password);
    if (!basic || state.tokenProblem(token) || !token) {
      return deny(401, basic ? 'Invalid username or password.' : 'Authentication required.', { 'www-authenticate': 'Basic realm="GitHub"' });
    }
    const fullName = `${repo.owner.login}/${repo.name}`;
    const inScope = !token.repositories || token.repositories.some((r) => r.toLowerCase() === fullName.toLowerCase());
    const level: Permission = service === 'git-receive-pack' ? 'write' : 'read';
    if (!inScope && (repo.private || level === 'write')) return deny(repo.private ? 404 : 403, repo.private ? 'Repository not found.' : `Permission to ${fullName}.git denied to ${token.actor.login}.`);
    if (!satisfies(token.permissions.contents, level)) return deny(403, `Permission to ${fullName}.git denied to ${token.actor.login}.`);
    record.status = await serveGitHttp(req, res, {
      gitRoot,
      pathInfo: `/${repo.owner.login}/${repo.name}.git${rest}`,
      query: url.search.slice(1),
      remoteUser: token.actor.login,
      hookEnv: {
        FAKE_GITHUB_ALLOW_WORKFLOWS: satisfies(token.permissions.workflows, 'write') ? '1' : '0',
        FAKE_GITHUB_PROTECTED_REFS: repo.protectDefaultBranch ? `refs/heads/${repo.defaultBranch}` : '',
      },
    });
  }

  // ---- dispatch -----------------------------------------------------------------------------

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply) {
    record.status = reply.status;
    const headers: Record<string, string> = {
      'x-github-request-id': `FAKE:${requests.length}`,
      'x-github-api-version-selected': '2022-11-28',
      ...reply.headers,
    };
    if (reply.body === undefined) return res.writeHead(reply.status, headers).end();
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply.body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', urls.html);
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { kind: 'api', method, url: `${url.pathname}${url.search}`, headers: req.headers, auth: parseAuth(req) };
    requests.push(record);

    const gitMatch = /^\/([^/]+)\/([^/]+?)\.git(\/info\/refs|\/git-upload-pack|\/git-receive-pack)$/.exec(url.pathname);
    if (gitMatch) {
      record.kind = 'git';
      record.auth = { kind: 'none' };
      return handleGit(req, res, url, gitMatch, record);
    }

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) return send(res, record, { status: 404, body: { message: 'Not Found', documentation_url: DOCS } });
    const path = url.pathname.slice(API_PREFIX.length);
    const op = spec.match(method, path);
    if (!op) {
      violations.push(`${method} ${path} is not an operation in test/fixtures/github-openapi.json`);
      return send(res, record, { status: 404, body: { message: 'Not Found', documentation_url: DOCS } });
    }
    record.operationId = op.operationId;
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, record, { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } });
      }
    }
    record.body = body;

    // Validate before any fault: a request hit by an injected fault must still be a valid one.
    const requestProblems = spec.validateRequest(op, url.searchParams, body);
    if (requestProblems.length > 0) {
      violations.push(...requestProblems.map((p) => `${op.operationId} request: ${p}`));
      return send(res, record, {
        status: 422,
        body: { message: `Invalid request.\n\n${requestProblems.join('\n')}`, documentation_url: DOCS },
      });
    }

    const fault = faults.find((f) => (!f.method || f.method === method) && (typeof f.path === 'string' ? f.path === path : f.path.test(path)));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
    }
    const faultReply = fault && { status: fault.status, headers: fault.headers, body: fault.body ?? { message: 'Server Error', documentation_url: DOCS } };
    if (faultReply && !fault.afterHandling) return sendValidated(res, record, op, faultReply);

    let reply: Reply;
    try {
      const ctx: Context = { op, query: url.searchParams, body: (body ?? {}) as Record<string, unknown>, auth: record.auth, urls };
      reply = await (handlers[op.operationId] as (typeof handlers)[string])(ctx, req);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      reply = { status: error.status, headers: error.headers, body: { message: error.message, documentation_url: DOCS, ...error.extra } };
    }
    if (faultReply) {
      // The real response is still checked, though the client never sees it.
      violations.push(...spec.validateResponse(op, reply.status, reply.body).map((p) => `${op.operationId} response: ${p}`));
      return sendValidated(res, record, op, faultReply);
    }
    sendValidated(res, record, op, reply);
  }

  /**
   * Send a reply checked against the operation's documented responses. Fault replies are checked
   * too: they stand for what GitHub (or a proxy in front of it) would send, so an injected error
   * must have GitHub's error shape, and a 200 must be a documented body.
   */
  function sendValidated(res: ServerResponse, record: RecordedRequest, op: Operation, reply: Reply) {
    const responseProblems = spec.validateResponse(op, reply.status, reply.body);
    if (responseProblems.length > 0) {
      violations.push(...responseProblems.map((p) => `${op.operationId} response: ${p}`));
      return send(res, record, { status: 500, body: { message: `fake GitHub response violates the OpenAPI description: ${responseProblems.join('; ')}`, documentation_url: DOCS } });
    }
    send(res, record, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`fake GitHub crashed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('fake GitHub crashed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  urls = { api: `http://127.0.0.1:${port}${API_PREFIX}`, html: `http://127.0.0.1:${port}` };

  return {
    apiUrl: urls.api,
    htmlUrl: urls.html,
    gitUrl: (owner, repo) => `${urls.html}/${owner}/${repo}.git`,
    state,
    requests,
    violations,
    failNext: (fault) => faults.push({ ...fault }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(gitRoot, { recursive: true, force: true });
    },
  };
}
