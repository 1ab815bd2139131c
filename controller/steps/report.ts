/**
 * Step 8a: tell people how the session ended. On the issue: Agentium's one status comment
 * (created or updated; src/github/issues.ts), passed through the redactor. To the cloud: the final
 * phase (GCP guest attributes, AWS tags, a local file). Both name files and rules, never values.
 */
import { upsertStatusComment, type GitHubClient } from '../../src/github/index.js';
import type { SessionSpec } from '../../src/session/spec.js';
import { ExitCode } from '../../src/errors.js';
import type { PolicyViolation } from './policy.js';
import type { PublishedPullRequest } from './publish.js';

export type Outcome =
  | { kind: 'success'; pullRequest: PublishedPullRequest }
  | { kind: 'no_changes' }
  | { kind: 'refused'; violations: PolicyViolation[] }
  | { kind: 'agent_failed'; exitCode: number }
  | { kind: 'timed_out'; reason: 'agent-timeout' | 'deadline' }
  | { kind: 'failed'; message: string };

/** Documented exit codes of `agentium-controller` (docs/local-mode.md). */
export function outcomeExitCode(outcome: Outcome): number {
  switch (outcome.kind) {
    case 'success':
    case 'no_changes':
      return ExitCode.ok;
    case 'refused':
      return ExitCode.policy;
    default:
      return ExitCode.failure;
  }
}

export function outcomeSummary(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'success':
      return `pull request #${outcome.pullRequest.number} ${outcome.pullRequest.created ? 'opened' : 'updated'}`;
    case 'no_changes':
      return 'the agent made no changes';
    case 'refused':
      return `refused by policy: ${outcome.violations.map((v) => v.message).join('; ')}`;
    case 'agent_failed':
      return `the agent failed (exit code ${outcome.exitCode})`;
    case 'timed_out':
      return outcome.reason === 'deadline' ? 'the session reached its deadline' : 'the agent was stopped at its timeout';
    case 'failed':
      return `the session failed: ${outcome.message}`;
  }
}

export function outcomeComment(spec: SessionSpec, outcome: Outcome): string {
  const session = `Agentium session \`${spec.id}\` (agent \`${spec.agent.name}\`)`;
  switch (outcome.kind) {
    case 'success':
      return `✅ ${session} ${outcome.pullRequest.created ? 'opened' : 'updated'} draft pull request #${outcome.pullRequest.number} (${outcome.pullRequest.files} file${outcome.pullRequest.files === 1 ? '' : 's'} changed).`;
    case 'no_changes':
      return `ℹ️ ${session} finished without changing any file; nothing was pushed.`;
    case 'refused': {
      const lines = outcome.violations.map((violation) => {
        const where = violation.file ? ` \`${violation.file}${violation.line ? `:${violation.line}` : ''}\`` : '';
        const rule = violation.secretRule ? ` (rule \`${violation.secretRule}\`)` : '';
        return `- **${violation.rule}**${where}${rule}: ${violation.message}`;
      });
      return `⛔ ${session}: the policy gate refused the agent's changes; nothing was pushed.\n\n${lines.join('\n')}`;
    }
    case 'agent_failed':
      return `❌ ${session}: the agent exited with code ${outcome.exitCode}; nothing was pushed.`;
    case 'timed_out':
      return outcome.reason === 'deadline'
        ? `⏱️ ${session} reached its deadline (${spec.deadline}) and was stopped; nothing more will be pushed.`
        : `⏱️ ${session}: the agent timed out after ${spec.agent.timeoutSeconds} s and was stopped; nothing was pushed.`;
    case 'failed':
      return `❌ ${session} failed: ${outcome.message}`;
  }
}

export async function commentOutcome(options: {
  client: GitHubClient;
  spec: SessionSpec;
  outcome: Outcome;
  redact: (text: string) => string;
  botLogin: string | undefined;
}): Promise<{ id: number; htmlUrl: string }> {
  const { spec } = options;
  return upsertStatusComment({
    client: options.client,
    repo: { owner: spec.repo.owner, repo: spec.repo.name },
    issueNumber: spec.issue,
    body: outcomeComment(spec, options.outcome),
    redact: options.redact,
    botLogin: options.botLogin,
  });
}
