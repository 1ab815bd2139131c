/**
 * The one HTTP client for GitHub's REST API, used by every call in src/github/. Plain `fetch`
 * (no Octokit) keeps the import cost near zero; what Octokit would add we need anyway in our own
 * shape: bounded retries (5xx only for requests safe to repeat; rate limits waited out as GitHub
 * asks) and GitHub errors mapped onto the error family (401/403 → AuthError, exit 3; 404/410 →
 * NotFoundError, exit 4; an exhausted rate limit → CapacityError, exit 5) with a next step.
 */
import { AgentiumError, AuthError, CapacityError, NotFoundError } from '../errors.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface GitHubClientOptions {
  /** `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  apiUrl?: string;
  /** The bearer credential: an App JWT, an installation token or a personal token; called per request. */
  token: string | (() => string | Promise<string>);
  /** Attempts per request, first one included (default 4). */
  maxAttempts?: number;
  /** Injected in tests so backoff costs no wall-clock time. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  userAgent?: string;
}

export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Extra hint for a 404 on this call, e.g. "the App is not installed on acme/widgets". */
  notFoundHint?: string;
  /** What the call was for, used in error messages ("fetch issue #12 of acme/widgets"). */
  action?: string;
  /**
   * Safe to send twice, so retried after a 5xx or a lost connection. Default: true for every method
   * but POST. A POST that GitHub carried out before answering 502 would make a second object.
   */
  idempotent?: boolean;
}

export interface GitHubResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface GitHubClient {
  readonly apiUrl: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<GitHubResponse<T>>;
  /** Every page of a list endpoint, following `Link: rel="next"` (bounded). */
  paginate<T>(path: string, options?: RequestOptions): Promise<T[]>;
  /**
   * Run `operation`, one that looks for its object before creating it, again (with backoff, same
   * attempt bound) when it failed in a way that leaves open whether GitHub did the create: the next
   * run finds what the last one made instead of making a second.
   */
  rerunOnAmbiguousFailure<T>(operation: () => Promise<T>): Promise<T>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MAX_PAGES = 50;
const MAX_BACKOFF_MS = 60_000;
/** Longest rate-limit wait we sit out; a later reset fails the call (exit 5) instead of stalling a session. */
export const MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;

/** Backoff before attempt `attempt + 1` after a 5xx or a lost connection: 1, 2, 4 s … */
export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, MAX_BACKOFF_MS);
}

/**
 * Wait before retrying a rate-limited request, as GitHub's REST docs ask: `retry-after` seconds if
 * sent; else, with `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`; else at least one
 * minute, growing exponentially. Never shorter than asked: retrying early can get an App banned.
 */
export function rateLimitDelayMs(attempt: number, headers: Headers, nowMs: number = Date.now()): number {
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
    return Math.max(reset * 1000 - nowMs, 1000);
  }
  return 60_000 * 2 ** attempt;
}

function isRateLimited(status: number, headers: Headers, message: string): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(message);
}

/**
 * A create (non-idempotent request) that failed with a 5xx or no answer: GitHub may have made the
 * object anyway, so it must be looked for before the create is sent again.
 */
export function isAmbiguousFailure(error: unknown): boolean {
  return error instanceof AgentiumError && error.details?.mayHaveTakenEffect === true;
}

/** GitHub's message, with the `errors[].message` of a 422 ("A pull request already exists for …"), which says what was wrong. */
function messageOf(data: unknown): string {
  if (!data || typeof data !== 'object') return typeof data === 'string' ? data.slice(0, 300) : '';
  const message = 'message' in data && typeof data.message === 'string' ? data.message : '';
  const errors = 'errors' in data && Array.isArray(data.errors) ? (data.errors as unknown[]) : [];
  const reasons = errors.flatMap((e) => (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string' ? [e.message] : []));
  return [message, ...reasons].filter(Boolean).join(': ').slice(0, 500);
}

/** Turn a final (non-retried) GitHub error response into the error family, with a next step. */
export function githubError(
  status: number,
  headers: Headers,
  data: unknown,
  action: string,
  notFoundHint?: string,
  extraDetails: Record<string, unknown> = {},
): AgentiumError {
  const githubMessage = messageOf(data);
  const said = githubMessage ? `: ${githubMessage}` : '';
  const details = { status, ...(headers.get('x-github-request-id') ? { requestId: headers.get('x-github-request-id') } : {}), ...extraDetails };
  // Before the 403 branch: a rate-limited 403 is not a missing permission, and waiting helps.
  if (isRateLimited(status, headers, githubMessage)) {
    const reset = Number(headers.get('x-ratelimit-reset'));
    const resetAt = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : undefined;
    return new CapacityError(`GitHub's rate limit stopped the attempt to ${action} (${status})${said}`, {
      hint: resetAt
        ? `the limit resets at ${resetAt}; run again after that, or spread sessions out`
        : 'wait a few minutes and run again; GitHub also limits bursts of writes (secondary rate limit)',
      details: { ...details, rateLimited: true, ...(resetAt ? { resetAt } : {}) },
    });
  }
  if (status === 401) {
    return new AuthError(`GitHub rejected the credentials (401) while trying to ${action}${said}`, {
      hint: 'check github.appId and the App private key (or GITHUB_TOKEN); an installation token may have expired or been revoked',
      details,
    });
  }
  if (status === 403) {
    const accepted = headers.get('x-accepted-github-permissions');
    return new AuthError(`GitHub refused to ${action} (403)${said}`, {
      hint: accepted
        ? `missing permission: GitHub accepts ${accepted} for this call; grant it to the App (docs/github-app.md) and accept the new permissions on the installation`
        : 'the credentials lack a permission for this call, or branch protection forbids it (docs/github-app.md)',
      details: { ...details, ...(accepted ? { acceptedPermissions: accepted } : {}) },
    });
  }
  if (status === 404 || status === 410) {
    return new NotFoundError(`GitHub could not find what was needed to ${action} (${status})${said}`, {
      hint: notFoundHint ?? 'check the repository and number; GitHub also answers 404 when the credentials cannot see a private repository',
      details,
    });
  }
  return new AgentiumError('failure', `GitHub answered ${status} while trying to ${action}${said}`, { details });
}

function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const sleep = options.sleep ?? defaultSleep;
  const doFetch = options.fetch ?? fetch;
  const token = typeof options.token === 'string' ? () => options.token as string : options.token;

  async function requestUrl<T>(method: string, url: string, request: RequestOptions): Promise<GitHubResponse<T>> {
    const action = request.action ?? `${method} ${new URL(url).pathname}`;
    const idempotent = request.idempotent ?? method !== 'POST';
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${await token()}`,
        'user-agent': options.userAgent ?? 'agentium',
        'x-github-api-version': '2022-11-28',
      };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        });
      } catch (error) {
        if (idempotent && attempt + 1 < maxAttempts) {
          await sleep(retryDelayMs(attempt));
          continue;
        }
        throw new AgentiumError('failure', `could not reach GitHub at ${apiUrl} to ${action}`, {
          hint: 'check github.apiUrl and the network',
          ...(idempotent ? {} : { details: { mayHaveTakenEffect: true } }),
          cause: error,
        });
      }
      const text = await response.text();
      let data: unknown = text;
      if (text && (response.headers.get('content-type') ?? '').includes('json')) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
      if (response.ok) return { status: response.status, headers: response.headers, data: (text ? data : undefined) as T };
      if (attempt + 1 < maxAttempts) {
        // A rate-limited request was refused before GitHub did anything: safe to repeat, whatever the method.
        if (isRateLimited(response.status, response.headers, messageOf(data))) {
          const wait = rateLimitDelayMs(attempt, response.headers);
          if (wait <= MAX_RATE_LIMIT_WAIT_MS) {
            await sleep(wait);
            continue;
          }
        } else if (response.status >= 500 && idempotent) {
          await sleep(retryDelayMs(attempt));
          continue;
        }
      }
      const mayHaveTakenEffect = !idempotent && response.status >= 500;
      throw githubError(response.status, response.headers, data, action, request.notFoundHint, mayHaveTakenEffect ? { mayHaveTakenEffect } : {});
    }
  }

  function buildUrl(path: string, query: RequestOptions['query']): string {
    const url = new URL(`${apiUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  return {
    apiUrl,
    request: (method, path, request = {}) => requestUrl(method, buildUrl(path, request.query), request),
    async paginate<T>(path: string, request: RequestOptions = {}): Promise<T[]> {
      const items: T[] = [];
      let url: string | undefined = buildUrl(path, { per_page: 100, ...request.query });
      for (let page = 0; url && page < MAX_PAGES; page++) {
        const response: GitHubResponse<T[]> = await requestUrl<T[]>('GET', url, request);
        items.push(...response.data);
        const next = nextLink(response.headers);
        // Follow only links on the same API origin: a Link header must not redirect our token elsewhere.
        url = next && new URL(next).origin === new URL(apiUrl).origin ? next : undefined;
      }
      return items;
    },
    async rerunOnAmbiguousFailure<T>(operation: () => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await operation();
        } catch (error) {
          if (!isAmbiguousFailure(error) || attempt + 1 >= maxAttempts) throw error;
          await sleep(retryDelayMs(attempt));
        }
      }
    },
  };
}
