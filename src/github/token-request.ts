/**
 * The installation-token request, pure and dependency-free so the session spec and
 * `run --dry-run` print exactly what the controller will ask GitHub for (SECURITY-CHECKLIST 9).
 */
import { UsageError } from '../errors.js';

/** The only permissions a session's token ever asks for. Never workflows, administration, secrets, actions. */
export const INSTALLATION_TOKEN_PERMISSIONS = Object.freeze({
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
} as const);

export const FORBIDDEN_TOKEN_PERMISSIONS = ['workflows', 'administration', 'secrets', 'actions'] as const;

export interface InstallationTokenRequest {
  repositories: [string];
  permissions: { contents: 'write'; pull_requests: 'write'; issues: 'write' };
}

const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * The exact body of `POST /app/installations/{id}/access_tokens`: one repository (its name, not
 * owner/name), the three permissions. `run --dry-run` prints this as `githubToken`.
 */
export function installationTokenRequest(repoName: string): InstallationTokenRequest {
  if (!REPO_NAME.test(repoName) || repoName === '.' || repoName === '..') {
    throw new UsageError(`"${repoName}" is not a repository name (expected the name part of owner/name)`);
  }
  return { repositories: [repoName], permissions: { ...INSTALLATION_TOKEN_PERMISSIONS } };
}
