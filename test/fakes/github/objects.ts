/**
 * Realistic GitHub REST objects for the fake's responses. GitHub's response schemas require many
 * fields; these builders fill every required one with the shape GitHub sends, so the fake's own
 * responses pass the OpenAPI validation (a missing field is a fake bug and fails the test).
 */
import type { FakeComment, FakeInstallation, FakeIssue, FakePull, FakeRepo, FakeUser } from './state.js';

export interface Urls {
  /** e.g. http://127.0.0.1:PORT/api/v3 */
  api: string;
  /** e.g. http://127.0.0.1:PORT */
  html: string;
}

const nodeId = (kind: string, id: number) => Buffer.from(`0${kind}${id}`).toString('base64');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function userObject(urls: Urls, user: FakeUser) {
  const login = encodeURIComponent(user.login);
  const api = `${urls.api}/users/${login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId('4:User', user.id),
    avatar_url: `${urls.html}/avatars/u/${user.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${urls.html}/${user.type === 'Bot' ? `apps/${user.login.replace(/\[bot\]$/, '')}` : login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** `GET /user` as GitHub shows it to someone else's token: the public profile (`public-user`). */
export function authenticatedUserObject(urls: Urls, user: FakeUser, createdAt: number) {
  return {
    ...userObject(urls, user),
    name: null,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: iso(createdAt),
    updated_at: iso(createdAt),
  };
}

export function repositoryObject(urls: Urls, repo: FakeRepo) {
  const full = `${repo.owner.login}/${repo.name}`;
  const api = `${urls.api}/repos/${full}`;
  const created = iso(repo.createdAt);
  return {
    id: repo.id,
    node_id: nodeId('10:Repository', repo.id),
    name: repo.name,
    full_name: full,
    owner: userObject(urls, repo.owner),
    private: repo.private,
    html_url: `${urls.html}/${full}`,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${new URL(urls.html).host}/${full}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${new URL(urls.html).hostname}:${full}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${urls.html}/${full}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: `${urls.html}/${full}`,
    homepage: null,
    language: 'TypeScript',
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 1,
    default_branch: repo.defaultBranch,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: created,
    created_at: created,
    updated_at: created,
    forks: 0,
    open_issues: 0,
    watchers: 0,
    license: null,
    allow_forking: true,
    web_commit_signoff_required: false,
  };
}

function labelObjects(urls: Urls, repo: FakeRepo, labels: string[]) {
  return labels.map((name, index) => ({
    id: repo.id * 1000 + index,
    node_id: nodeId('5:Label', repo.id * 1000 + index),
    url: `${urls.api}/repos/${repo.owner.login}/${repo.name}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: 'ededed',
    default: false,
  }));
}

export function issueObject(urls: Urls, repo: FakeRepo, issue: FakeIssue, pull?: FakePull) {
  const full = `${repo.owner.login}/${repo.name}`;
  const api = `${urls.api}/repos/${full}/issues/${issue.number}`;
  return {
    id: issue.id,
    node_id: nodeId('5:Issue', issue.id),
    url: api,
    repository_url: `${urls.api}/repos/${full}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${urls.html}/${full}/${pull ? 'pull' : 'issues'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.state === 'closed' ? 'completed' : null,
    title: issue.title,
    body: issue.body,
    user: userObject(urls, issue.user),
    labels: labelObjects(urls, repo, issue.labels),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: issue.comments,
    closed_at: issue.state === 'closed' ? iso(issue.updatedAt) : null,
    created_at: iso(issue.createdAt),
    updated_at: iso(issue.updatedAt),
    author_association: 'OWNER',
    ...(pull
      ? {
          pull_request: {
            url: `${urls.api}/repos/${full}/pulls/${pull.number}`,
            html_url: `${urls.html}/${full}/pull/${pull.number}`,
            diff_url: `${urls.html}/${full}/pull/${pull.number}.diff`,
            patch_url: `${urls.html}/${full}/pull/${pull.number}.patch`,
            merged_at: null,
          },
        }
      : {}),
  };
}

export function commentObject(urls: Urls, repo: FakeRepo, comment: FakeComment) {
  const full = `${repo.owner.login}/${repo.name}`;
  return {
    id: comment.id,
    node_id: nodeId('12:IssueComment', comment.id),
    url: `${urls.api}/repos/${full}/issues/comments/${comment.id}`,
    html_url: `${urls.html}/${full}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${urls.api}/repos/${full}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userObject(urls, comment.user),
    created_at: iso(comment.createdAt),
    updated_at: iso(comment.updatedAt),
    author_association: comment.user.type === 'Bot' ? 'NONE' : 'OWNER',
    ...(comment.viaApp ? { performed_via_github_app: null } : {}),
  };
}

function pullSimple(urls: Urls, repo: FakeRepo, pull: FakePull) {
  const full = `${repo.owner.login}/${repo.name}`;
  const api = `${urls.api}/repos/${full}/pulls/${pull.number}`;
  const html = `${urls.html}/${full}/pull/${pull.number}`;
  const issueApi = `${urls.api}/repos/${full}/issues/${pull.number}`;
  const end = (ref: string, sha: string) => ({
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha,
    user: userObject(urls, repo.owner),
    repo: repositoryObject(urls, repo),
  });
  return {
    url: api,
    id: pull.id,
    node_id: nodeId('11:PullRequest', pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueApi,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: `${urls.api}/repos/${full}/pulls/comments{/number}`,
    comments_url: `${issueApi}/comments`,
    statuses_url: `${urls.api}/repos/${full}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userObject(urls, pull.user),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: iso(pull.createdAt),
    updated_at: iso(pull.updatedAt),
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: end(pull.head, pull.headSha),
    base: end(pull.base, pull.baseSha),
    _links: {
      self: { href: api },
      html: { href: html },
      issue: { href: issueApi },
      comments: { href: `${issueApi}/comments` },
      review_comments: { href: `${api}/comments` },
      review_comment: { href: `${urls.api}/repos/${full}/pulls/comments{/number}` },
      commits: { href: `${api}/commits` },
      statuses: { href: `${urls.api}/repos/${full}/statuses/${pull.headSha}` },
    },
    author_association: pull.user.type === 'Bot' ? 'NONE' : 'OWNER',
    auto_merge: null,
    draft: pull.draft,
  };
}

/** The list shape (`pull-request-simple`). */
export const pullSimpleObject = pullSimple;

/** The full shape (`pull-request`), returned by create and update. */
export function pullObject(urls: Urls, repo: FakeRepo, pull: FakePull) {
  return {
    ...pullSimple(urls, repo, pull),
    merged: false,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  };
}

export function installationObject(urls: Urls, installation: FakeInstallation, appSlug: string) {
  const created = iso(installation.createdAt);
  return {
    id: installation.id,
    account: userObject(urls, installation.account),
    repository_selection: 'selected',
    access_tokens_url: `${urls.api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.html}/settings/installations/${installation.id}`,
    app_id: installation.appId,
    app_slug: appSlug,
    target_id: installation.account.id,
    target_type: installation.account.type === 'Organization' ? 'Organization' : 'User',
    permissions: { ...installation.permissions, metadata: 'read' },
    events: [],
    created_at: created,
    updated_at: created,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}
