/**
 * GitHub App installation tokens: look up the installation, mint a token DOWN-SCOPED to one
 * repository and three permissions, refresh it before it expires, revoke it when done
 * (SECURITY-CHECKLIST 9, 10, 12).
 */
import { AgentiumError, PolicyError, UsageError } from '../errors.js';
import { createGitHubClient, type GitHubClientOptions } from './client.js';
import { createAppJwt } from './jwt.js';

export {
  FORBIDDEN_TOKEN_PERMISSIONS,
  INSTALLATION_TOKEN_PERMISSIONS,
  installationTokenRequest,
  type InstallationTokenRequest,
} from './token-request.js';
import { FORBIDDEN_TOKEN_PERMISSIONS, installationTokenRequest } from './token-request.js';

export interface RepoRef {
  owner: string;
  repo: string;
}

/** Parse `owner/name` as given on the command line or in the config. */
export function parseRepo(fullName: string): RepoRef {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(fullName.trim());
  if (!match || match[2] === '.' || match[2] === '..') {
    throw new UsageError(`"${fullName}" is not a repository; expected owner/name`, { hint: 'for example: --repo acme/widgets' });
  }
  return { owner: match[1] as string, repo: (match[2] as string).replace(/\.git$/, '') };
}

export interface AppCredentials {
  appId: string | number;
  /** PEM text of the App's private key (read from the secret store; never logged). */
  privateKey: string;
  apiUrl?: string;
  /** Injected clock (ms) for JWT claims. */
  now?: () => number;
  sleep?: GitHubClientOptions['sleep'];
  fetch?: GitHubClientOptions['fetch'];
  maxAttempts?: number;
}

function appClient(credentials: AppCredentials) {
  const now = credentials.now ?? Date.now;
  return createGitHubClient({
    apiUrl: credentials.apiUrl,
    // A fresh JWT per request: each lives ten minutes at most, a retry loop may outlast one.
    token: () => createAppJwt(credentials.appId, credentials.privateKey, now()),
    sleep: credentials.sleep,
    fetch: credentials.fetch,
    maxAttempts: credentials.maxAttempts,
  });
}

export interface RepoInstallation {
  id: number;
  /** The App's slug: its bot writes as `<slug>[bot]` (comment author, commit identity). */
  appSlug: string;
}

/** `GET /repos/{owner}/{repo}/installation`: the installation, when github.installationId is not configured. */
export async function findRepoInstallation(credentials: AppCredentials, repo: RepoRef): Promise<RepoInstallation> {
  const response = await appClient(credentials).request<{ id: number; app_slug: string }>(
    'GET',
    `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/installation`,
    {
      action: `find the App installation for ${repo.owner}/${repo.repo}`,
      notFoundHint: `App not installed on the repo: install the GitHub App on ${repo.owner}/${repo.repo} (docs/github-app.md), or check github.appId`,
    },
  );
  return { id: response.data.id, appSlug: response.data.app_slug };
}

export interface InstallationToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  permissions: Record<string, string>;
}

/** Mint a down-scoped installation token (checklist 9). */
export async function mintInstallationToken(
  credentials: AppCredentials,
  installationId: number,
  repoName: string,
): Promise<InstallationToken> {
  const body = installationTokenRequest(repoName);
  const response = await appClient(credentials).request<{ token: string; expires_at: string; permissions?: Record<string, string> }>(
    'POST',
    `/app/installations/${installationId}/access_tokens`,
    {
      body,
      // Safe to retry after a 5xx: a token minted by a lost attempt reached nobody and expires within the hour.
      idempotent: true,
      action: `mint an installation token for ${repoName}`,
      notFoundHint: `installation ${installationId} does not exist for this App, or the App is not installed on ${repoName}`,
    },
  );
  const expiresAt = Date.parse(response.data.expires_at);
  if (!response.data.token || !Number.isFinite(expiresAt)) {
    throw new AgentiumError('failure', 'GitHub returned an installation token without token or expiry');
  }
  const permissions = response.data.permissions ?? {};
  // GitHub never grants more than asked, but a token that could change workflows must not be used.
  const excessive = FORBIDDEN_TOKEN_PERMISSIONS.filter((name) => name in permissions);
  if (excessive.length > 0) {
    await revokeInstallationToken(response.data.token, credentials).catch(() => undefined);
    throw new PolicyError(`the installation token carries forbidden permissions: ${excessive.join(', ')}`);
  }
  return { token: response.data.token, expiresAt, permissions };
}

/** `DELETE /installation/token`, authenticated with the token itself (checklist 10). */
export async function revokeInstallationToken(
  token: string,
  options: Pick<AppCredentials, 'apiUrl' | 'sleep' | 'fetch' | 'maxAttempts'> = {},
): Promise<void> {
  await createGitHubClient({ ...options, token }).request('DELETE', '/installation/token', {
    action: 'revoke the installation token',
  });
}

export interface TokenHolderOptions {
  mint: () => Promise<InstallationToken>;
  revoke: (token: string) => Promise<void>;
  now?: () => number;
  /** Re-mint when less than this is left (default 10 minutes; tokens live 60). */
  refreshBeforeMs?: number;
}

/**
 * Holds the session's installation token and re-mints it when it is close to expiry, so sessions
 * longer than the token lifetime keep working (checklist 12). The replaced token is revoked.
 */
export class InstallationTokenHolder {
  private current: InstallationToken | undefined;
  private minting: Promise<InstallationToken> | undefined;
  private readonly now: () => number;
  private readonly refreshBeforeMs: number;

  constructor(private readonly options: TokenHolderOptions) {
    this.now = options.now ?? Date.now;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 10 * 60_000;
  }

  /** A token with at least `refreshBeforeMs` left. */
  async token(): Promise<string> {
    const current = this.current;
    if (current && current.expiresAt - this.now() >= this.refreshBeforeMs) return current.token;
    // Concurrent callers share one mint.
    this.minting ??= this.options.mint().finally(() => {
      this.minting = undefined;
    });
    const fresh = await this.minting;
    if (this.current !== fresh) {
      const replaced = this.current;
      this.current = fresh;
      if (replaced) await this.options.revoke(replaced.token).catch(() => undefined);
    }
    return fresh.token;
  }

  /** Revoke the held token; safe to call twice. */
  async revoke(): Promise<void> {
    if (this.minting) await this.minting.catch(() => undefined);
    const held = this.current;
    this.current = undefined;
    if (held) await this.options.revoke(held.token);
  }
}

/**
 * Run `work` with a token holder for one repository, and revoke the token afterwards whatever
 * happens (success, failure, or a timeout that rejects `work`). A revoke failure never hides the
 * work's own error.
 */
export async function withInstallationToken<T>(
  options: { credentials: AppCredentials; installationId: number; repoName: string; refreshBeforeMs?: number },
  work: (holder: InstallationTokenHolder) => Promise<T>,
): Promise<T> {
  const { credentials } = options;
  const holder = new InstallationTokenHolder({
    mint: () => mintInstallationToken(credentials, options.installationId, options.repoName),
    revoke: (token) => revokeInstallationToken(token, credentials),
    now: credentials.now,
    refreshBeforeMs: options.refreshBeforeMs,
  });
  let result: T;
  try {
    result = await work(holder);
  } catch (error) {
    await holder.revoke().catch(() => undefined);
    throw error;
  }
  await holder.revoke();
  return result;
}
