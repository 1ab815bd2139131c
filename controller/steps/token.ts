/**
 * Step 3: the session's GitHub credential. App mode: look up the installation (and the App's slug,
 * for the bot identity), then mint an installation token down-scoped to the one repository
 * (src/github/app.ts) and keep it fresh with InstallationTokenHolder. Every minted token, refreshed
 * ones included, is registered with the redactor before it is handed to anyone. Local token mode
 * uses the user's own token as is and never revokes it (it is not ours to revoke).
 */
import {
  findRepoInstallation,
  InstallationTokenHolder,
  mintInstallationToken,
  revokeInstallationToken,
  type AppCredentials,
} from '../../src/github/index.js';
import { AgentiumError } from '../../src/errors.js';
import type { SessionSpec } from '../../src/session/spec.js';
import type { SessionRedactor } from '../lifecycle.js';
import type { SessionSecrets } from './secrets.js';

export interface CommitIdentity {
  name: string;
  email: string;
}

export interface SessionToken {
  mode: 'app' | 'token';
  /** A valid token (refreshed when close to expiry). Throws once the token was revoked. */
  token(): Promise<string>;
  /** Revoke the held token. `not-applicable` for a user's own token. Safe to call twice. */
  revoke(): Promise<'revoked' | 'not-applicable' | 'nothing-held'>;
  /** Author and committer of the pushed commit. */
  identity: CommitIdentity;
  /** Login that writes our comments (`<slug>[bot]`), when known. */
  botLogin: string | undefined;
}

export interface TokenOptions {
  spec: SessionSpec;
  secrets: SessionSecrets;
  redactor: Pick<SessionRedactor, 'registerSecret'>;
  now?: () => number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  refreshBeforeMs?: number;
  /** Commit identity in token mode (docs/local-mode.md). */
  localIdentity?: CommitIdentity;
}

export const defaultLocalIdentity: CommitIdentity = { name: 'agentium', email: 'agentium@users.noreply.github.com' };

/** The App's bot identity as GitHub shows it; the numbered noreply form when the bot's user id is known. */
export function botIdentity(slug: string, botUserId?: number): CommitIdentity {
  const login = `${slug}[bot]`;
  return { name: login, email: botUserId ? `${botUserId}+${login}@users.noreply.github.com` : `${login}@users.noreply.github.com` };
}

export async function acquireSessionToken(options: TokenOptions): Promise<SessionToken> {
  const { spec, secrets, redactor } = options;
  const http = { apiUrl: spec.github.apiUrl, fetch: options.fetch, sleep: options.sleep };
  if (!secrets.appPrivateKey) {
    const token = secrets.githubToken;
    if (!token) throw new AgentiumError('auth', 'no GitHub credential: neither an App key nor a GitHub token was read');
    return {
      mode: 'token',
      token: async () => token,
      revoke: async () => 'not-applicable',
      identity: options.localIdentity ?? defaultLocalIdentity,
      botLogin: undefined,
    };
  }

  const credentials: AppCredentials = { appId: spec.github.appId ?? '', privateKey: secrets.appPrivateKey, now: options.now, ...http };
  const now = options.now ?? Date.now;
  const { name } = spec.repo;
  // Also when the installation id is configured: the lookup names the App's slug, its bot identity.
  const installation = await findRepoInstallation(credentials, { owner: spec.repo.owner, repo: name });
  const installationId = spec.github.installationId ?? installation.id;

  let closed = false;
  const holder = new InstallationTokenHolder({
    mint: async () => {
      const minted = await mintInstallationToken(credentials, installationId, name);
      redactor.registerSecret(minted.token);
      return minted;
    },
    revoke: (token) => revokeInstallationToken(token, http),
    now,
    refreshBeforeMs: options.refreshBeforeMs,
  });
  await holder.token();
  return {
    mode: 'app',
    token: () => {
      // Work that outlived the watchdog must not mint a token nobody would revoke.
      if (closed) return Promise.reject(new AgentiumError('failure', 'the session token was already revoked'));
      return holder.token();
    },
    revoke: async () => {
      if (closed) return 'nothing-held';
      closed = true;
      await holder.revoke();
      return 'revoked';
    },
    identity: botIdentity(installation.appSlug),
    botLogin: `${installation.appSlug}[bot]`,
  };
}
