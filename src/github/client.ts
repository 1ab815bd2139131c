/**
 * The one HTTP client for GitHub's REST API, used by every call in src/github/. Plain `fetch`
 * (no Octokit) keeps the import cost near zero; what Octokit would add we need anyway in our own
 * shape: bounded retries with backoff on 5xx and rate limits, and GitHub errors mapped onto the
 * error family (401/403 → AuthError, exit 3; 404/410 → NotFoundError, exit 4) with a next step.
 */
import { AgentiumError, AuthError, NotFoundError } from '../errors.js';

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
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MAX_PAGES = 50;
const MAX_BACKOFF_MS = 60_000;

/** Backoff before attempt `attempt + 1`: Retry-After / rate-limit reset when GitHub names one, else exponential. */
export function retryDelayMs(attempt: number, headers: Headers, nowMs: number = Date.now()): number {
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, MAX_BACKOFF_MS);
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
    return Math.min(Math.max(reset * 1000 - nowMs, 1000), MAX_BACKOFF_MS);
  }
  return Math.min(1000 * 2 ** attempt, MAX_BACKOFF_MS);
}

function isRateLimited(status: number, headers: Headers, message: string): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(message);
}

function messageOf(data: unknown): string {
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') return data.message;
  return typeof data === 'string' ? data.slice(0, 300) : '';
}

/** Turn a final (non-retried) GitHub error response into the error family, with a next step. */
export function githubError(status: number, headers: Headers, data: unknown, action: string, notFoundHint?: string): AgentiumError {
  const githubMessage = messageOf(data);
  const said = githubMessage ? `: ${githubMessage}` : '';
  const details = { status, ...(headers.get('x-github-request-id') ? { requestId: headers.get('x-github-request-id') } : {}) };
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
        if (attempt + 1 < maxAttempts) {
          await sleep(retryDelayMs(attempt, new Headers()));
          continue;
        }
        throw new AgentiumError('failure', `could not reach GitHub at ${apiUrl} to ${action}`, {
          hint: 'check github.apiUrl and the network',
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
      const retryable = response.status >= 500 || isRateLimited(response.status, response.headers, messageOf(data));
      if (retryable && attempt + 1 < maxAttempts) {
        await sleep(retryDelayMs(attempt, response.headers));
        continue;
      }
      throw githubError(response.status, response.headers, data, action, request.notFoundHint);
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
  };
}
