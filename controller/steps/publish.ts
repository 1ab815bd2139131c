/**
 * Step 7: push the candidate commit (authored by the App's bot) to `agentium/issue-<N>` through the
 * GitHub layer (credential helper; never forced; only that ref), then open the draft PR
 * `Closes #N` or update the open one. Each stage is recorded in the publish marker first, so a
 * restarted controller resumes instead of repeating (./marker.ts).
 */
import { openOrUpdatePullRequest, pushIssueBranch, type GitHubClient, type Issue } from '../../src/github/index.js';
import type { SessionSpec } from '../../src/session/spec.js';
import type { Candidate } from './changes.js';
import { AgentiumError } from '../../src/errors.js';
import { localGit } from './git.js';
import { writeMarker, type PublishMarker } from './marker.js';
import { issueRef } from './policy.js';
import { controllerRepoDir } from './workspace.js';
import type { Workspace } from './workspace.js';

export interface PublishedPullRequest {
  number: number;
  htmlUrl: string;
  created: boolean;
  files: number;
}

export function commitMessage(spec: SessionSpec, issueTitle: string): string {
  return `${issueTitle.replace(/\s+/g, ' ').trim().slice(0, 200)} (#${spec.issue})\n\nWritten by the ${spec.agent.name} agent in Agentium session ${spec.id}.\n\nCloses #${spec.issue}\n`;
}

export function pullRequestText(spec: SessionSpec, issue: Pick<Issue, 'title'>, files: number): { title: string; body: string } {
  return {
    title: `${issue.title.replace(/\s+/g, ' ').trim().slice(0, 200)} (#${spec.issue})`,
    body: [
      `This draft was written by the \`${spec.agent.name}\` agent in Agentium session \`${spec.id}\` and passed the controller's policy gate (${files} file${files === 1 ? '' : 's'} changed, no workflow changes, no secrets found).`,
      '',
      'Review it like any outside contribution before marking it ready.',
      '',
      `Closes #${spec.issue}`,
    ].join('\n'),
  };
}

interface PublishContext {
  spec: SessionSpec;
  stateDir: string;
  client: GitHubClient;
  token: () => Promise<string>;
  redact: (text: string) => string;
  signal: AbortSignal;
}

export async function publishCandidate(
  context: PublishContext & { workspace: Workspace; candidate: Candidate & { commit: string }; issue: Pick<Issue, 'title'> },
): Promise<PublishedPullRequest> {
  const { spec, workspace, candidate } = context;
  // Never push after the deadline fired: the final steps are already revoking the token.
  context.signal.throwIfAborted();
  const marker: PublishMarker = {
    sessionId: spec.id,
    issue: spec.issue,
    phase: 'pushing',
    commit: candidate.commit,
    files: candidate.files.length,
    baseBranch: workspace.defaultBranch,
    issueTitle: context.issue.title,
    remoteUrl: workspace.remoteUrl,
  };
  await writeMarker(context.stateDir, marker);
  return pushAndOpen(context, marker);
}

/**
 * After a restart: the agent does not run again. An interrupted push is finished with the very
 * commit the policy gate passed (a no-op when it had landed); then the PR is made sure of.
 */
export async function resumePublish(context: PublishContext & { marker: PublishMarker }): Promise<PublishedPullRequest> {
  const { marker } = context;
  if (marker.phase === 'published' && marker.pullRequest) {
    return { ...marker.pullRequest, created: false, files: marker.files };
  }
  if (marker.phase === 'pushing') return pushAndOpen(context, marker);
  return openPullRequest(context, marker);
}

async function pushAndOpen(context: PublishContext, marker: PublishMarker): Promise<PublishedPullRequest> {
  const { spec } = context;
  const controllerRepo = controllerRepoDir(context.stateDir);
  // The controller's own repository holds the candidate; push only if it still is that commit.
  const head = (await localGit(controllerRepo)(['rev-parse', '--verify', '--quiet', `${issueRef(spec.issue)}^{commit}`]).catch(() => '')).trim();
  if (head !== marker.commit) {
    throw new AgentiumError('failure', `the interrupted push of ${marker.commit.slice(0, 12)} cannot be finished: the controller's repository no longer holds it`, {
      hint: `nothing more is pushed for this session; start a new one: agentium run --issue ${spec.issue}`,
    });
  }
  context.signal.throwIfAborted();
  await pushIssueBranch({ workspace: controllerRepo, remoteUrl: marker.remoteUrl, issueNumber: spec.issue, token: context.token });
  const pushed: PublishMarker = { ...marker, phase: 'pushed' };
  await writeMarker(context.stateDir, pushed);
  return openPullRequest(context, pushed);
}

async function openPullRequest(context: PublishContext, marker: PublishMarker): Promise<PublishedPullRequest> {
  const { spec } = context;
  const text = pullRequestText(spec, { title: marker.issueTitle }, marker.files);
  const pull = await openOrUpdatePullRequest({
    client: context.client,
    repo: { owner: spec.repo.owner, repo: spec.repo.name },
    issueNumber: spec.issue,
    base: marker.baseBranch,
    title: text.title,
    body: text.body,
    redact: context.redact,
  });
  await writeMarker(context.stateDir, { ...marker, phase: 'published', pullRequest: { number: pull.number, htmlUrl: pull.htmlUrl } });
  return { number: pull.number, htmlUrl: pull.htmlUrl, created: pull.created, files: marker.files };
}
