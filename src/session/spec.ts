/**
 * The session spec: one plain, non-secret object that says everything about one session. Built by
 * one pure function from config + flags; written into user-data for the controller; printed by
 * `run --dry-run`. It holds secret *references* (names), never secret values.
 */
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import { parseByteSize, parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';
import { installationTokenRequest, type InstallationTokenRequest } from '../github/token-request.js';

export const specVersion = 1;


export interface SessionSpec {
  version: typeof specVersion;
  id: string;
  provider: ProviderName;
  repo: { owner: string; name: string; fullName: string };
  issue: number;
  branch: string;
  createdAt: string;
  deadline: string;
  lifetimeSeconds: number;
  github: {
    apiUrl: string;
    appId: string | undefined;
    installationId: number | undefined;
    /** Secret reference (name/ARN), never the key. */
    privateKeySecret: string | undefined;
    repositories: string[];
    permissions: InstallationTokenRequest['permissions'];
  };
  agent: {
    name: string;
    image: string;
    command: string[] | undefined;
    timeoutSeconds: number;
    /** Secret reference for the LLM key; the egress proxy injects it, the agent never sees it. */
    llmKeySecret: string | undefined;
    user: string;
    limits: { cpus: number; memoryBytes: number; pids: number };
  };
  egress: { allow: string[] };
  policy: { maxDiffBytes: number; maxChangedFiles: number };
  controller: { image: string };
}

/** Lifetime bounds per cloud: GCP maxRunDuration allows 30 s–120 d; our floor leaves time to work. */
export const lifetimeRange: Record<ProviderName, { min: number; max: number }> = {
  gcp: { min: 300, max: 120 * 86_400 },
  // AWS has no native run-duration cap: the backstop is an OS shutdown timer with
  // InstanceInitiatedShutdownBehavior=terminate; a week bounds the cost of a stuck VM.
  aws: { min: 300, max: 7 * 86_400 },
  local: { min: 60, max: 7 * 86_400 },
};

/**
 * The session lifetime and agent timeout in seconds, or what is wrong with them: the lifetime must
 * be one the provider allows, and the agent must stop before it, leaving the controller time to
 * finish. One check for the config loader (which names where the value came from) and the spec.
 */
export function sessionTimes(
  config: Pick<AgentiumConfig, 'session' | 'agent'>,
  provider: ProviderName,
): { lifetimeSeconds: number; timeoutSeconds: number } | { problem: { key: 'lifetime' | 'timeout'; message: string } } {
  const { lifetime } = config.session;
  const lifetimeSeconds = parseDuration(lifetime) ?? Number.NaN;
  const range = lifetimeRange[provider];
  if (!(lifetimeSeconds >= range.min && lifetimeSeconds <= range.max)) {
    return { problem: { key: 'lifetime', message: `${lifetime} is outside what ${provider} allows (${range.min / 60} minutes to ${range.max / 86_400} days)` } };
  }
  const timeoutSeconds = parseDuration(config.agent.timeout) ?? Number.NaN;
  if (!(timeoutSeconds > 0 && timeoutSeconds < lifetimeSeconds)) {
    return { problem: { key: 'timeout', message: `${config.agent.timeout} must be shorter than the session lifetime ${lifetime}` } };
  }
  return { lifetimeSeconds, timeoutSeconds };
}

/** The container user: a fixed non-root uid/gid (SECURITY-CHECKLIST 15). */
export const agentUser = '1000:1000';

export interface SessionInputs {
  provider: ProviderName;
  issue: number;
  /** Injected so the function stays pure: tests and dry-runs are reproducible. */
  now: Date;
  /** Random suffix for the session id (lowercase letters and digits). */
  nonce: string;
}

/** The only branch a session ever pushes (checklist 13). */
export function issueBranch(issueNumber: number): string {
  if (!Number.isSafeInteger(issueNumber) || issueNumber < 1) {
    throw new UsageError(`issue number must be a positive integer, got ${issueNumber}`);
  }
  return `agentium/issue-${issueNumber}`;
}

export function buildSessionSpec(config: AgentiumConfig, inputs: SessionInputs): SessionSpec {
  const { provider, issue, now, nonce } = inputs;
  const branch = issueBranch(issue);
  if (!config.repo) throw new UsageError('no repository given: pass --repo owner/name or set "repo" in the config');
  const [owner = '', name = ''] = config.repo.split('/');

  const times = sessionTimes(config, provider);
  if ('problem' in times) {
    throw new UsageError(`${times.problem.key === 'lifetime' ? 'session lifetime' : 'agent.timeout'} ${times.problem.message}`, {
      hint: times.problem.key === 'lifetime' ? 'set session.lifetime or --lifetime, e.g. 2h' : 'the controller needs time after the agent to check, push and clean up',
    });
  }
  const { lifetimeSeconds, timeoutSeconds } = times;

  return {
    version: specVersion,
    id: `agentium-${issue}-${nonce}`,
    provider,
    repo: { owner, name, fullName: `${owner}/${name}` },
    issue,
    branch,
    createdAt: now.toISOString(),
    deadline: new Date(now.getTime() + lifetimeSeconds * 1000).toISOString(),
    lifetimeSeconds,
    github: {
      apiUrl: config.github?.apiUrl ?? 'https://api.github.com',
      appId: config.github ? String(config.github.appId) : undefined,
      installationId: config.github?.installationId,
      privateKeySecret: config.github?.privateKeySecret,
      ...installationTokenRequest(name),
    },
    agent: {
      name: config.agent.name,
      image: config.agent.image,
      command: config.agent.command,
      timeoutSeconds,
      llmKeySecret: config.agent.llmKeySecret,
      user: agentUser,
      limits: {
        cpus: config.agent.cpus,
        memoryBytes: parseByteSize(config.agent.memory) ?? 0,
        pids: config.agent.pids,
      },
    },
    egress: { allow: [...config.egress.allow] },
    policy: { ...config.policy },
    controller: { image: config.controller.image },
  };
}

/** Unix seconds of the deadline, as carried in labels/tags. */
export function deadlineSeconds(spec: SessionSpec): number {
  return Math.floor(Date.parse(spec.deadline) / 1000);
}
