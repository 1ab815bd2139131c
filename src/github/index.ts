/**
 * Everything Agentium says to GitHub, shared by the CLI and the on-VM controller. Import this
 * module lazily (only commands that talk to GitHub need it); it pulls in no SDK.
 */
export { createAppJwt, appJwtClaims, APP_JWT_MAX_LIFETIME_SECONDS } from './jwt.js';
export { createGitHubClient, githubError, DEFAULT_GITHUB_API_URL } from './client.js';
export type { GitHubClient, GitHubClientOptions } from './client.js';
export {
  installationTokenRequest,
  INSTALLATION_TOKEN_PERMISSIONS,
  FORBIDDEN_TOKEN_PERMISSIONS,
  parseRepo,
  findRepoInstallation,
  mintInstallationToken,
  revokeInstallationToken,
  InstallationTokenHolder,
  withInstallationToken,
} from './app.js';
export type { AppCredentials, InstallationToken, InstallationTokenRequest, RepoInstallation, RepoRef } from './app.js';
export { fetchIssue, upsertStatusComment, authenticatedLogin, STATUS_COMMENT_MARKER } from './issues.js';
export type { Issue, IssueComment } from './issues.js';
export { issueBranch, findIssuePullRequest, openOrUpdatePullRequest, pullRequestBody } from './pulls.js';
export type { PullRequestRef } from './pulls.js';
export { cloneRepository, fetchRepository, checkoutIssueBranch, pushIssueBranch, gitRemoteUrl } from './git.js';
