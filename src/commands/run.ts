import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { formatDuration } from '../config/duration.js';
import { loadConfig, requireProviderSettings } from '../config/load.js';
import type { ProviderName } from '../config/schema.js';
import { AgentiumError, ConfigError, PolicyError, toAgentiumError, UsageError } from '../errors.js';
import { gcpLabelValue } from '../labels.js';
import { printJson, progress } from '../output.js';
import type { LaunchedSession, SessionList } from '../providers/types.js';
import { planSession, type SessionPlan } from '../session/plan.js';

export interface RunOptions {
  issue: number;
  repo?: string;
  provider?: ProviderName;
  local?: boolean;
  config: string;
  lifetime?: string;
  onDemand?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Session ids end in 8 random characters from [a-z0-9]: valid in GCP names and labels. */
export function sessionNonce(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(8)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export async function runCommand(options: RunOptions, command?: Command): Promise<void> {
  if (options.local && options.provider && options.provider !== 'local') {
    throw new UsageError(`--local conflicts with --provider ${options.provider}`, {
      hint: 'use either --local or --provider gcp|aws',
    });
  }
  const { config } = loadConfig({
    path: options.config,
    mustExist: command?.getOptionValueSource('config') === 'cli',
    flags: [
      { flag: '--repo', path: ['repo'], value: options.repo },
      { flag: options.local ? '--local' : '--provider', path: ['provider'], value: options.local ? 'local' : options.provider },
      { flag: '--lifetime', path: ['session', 'lifetime'], value: options.lifetime },
      { flag: '--on-demand', path: ['session', 'spot'], value: options.onDemand ? false : undefined },
    ],
  });
  const provider = config.provider;
  requireProviderSettings(config, provider);
  const plan = planSession(config, { provider, issue: options.issue, now: new Date(), nonce: sessionNonce() });

  if (options.dryRun) {
    if (options.json) printJson(plan);
    else process.stdout.write(describePlan(plan, config.aws?.region));
    return;
  }
  if (provider === 'local') {
    const { runLocalSession } = await import('../../controller/local.js');
    await runLocalSession(plan, { json: Boolean(options.json) });
    return;
  }
  if (provider === 'aws' && config.aws?.securityGroupIds.length === 0) {
    // The VPC's default group admits traffic from its own members: checklist 32 wants no ingress.
    throw new ConfigError('aws.securityGroupIds is empty: a real run needs a security group with no ingress rules', {
      hint: 'create one (see docs/providers/aws.md) and set aws.securityGroupIds; --dry-run works without it',
    });
  }
  const { loadProvider } = await import('../providers/index.js');
  const cloud = await loadProvider(provider, config);
  const sessionId = plan.session.id;
  const interrupt = onInterrupt((signal) =>
    progress(`${signal}: cancelling session ${sessionId} and deleting what it created (interrupt again to quit at once and leave it to: agentium destroy ${sessionId})`),
  );
  let launched: LaunchedSession;
  try {
    refuseSecondSession(await cloud.list({ signal: interrupt.signal }), plan);
    progress(`creating ${provider} instance for session ${sessionId}…`);
    launched = await cloud.launch({ spec: plan.session, userData: plan.userData }, { onProgress: progress, signal: interrupt.signal });
  } catch (error) {
    const signal = interrupt.received();
    if (signal === undefined) throw error;
    // The provider has already deleted what it created (or says in its error that it could not).
    const cause = toAgentiumError(error);
    throw new AgentiumError('failure', `run interrupted by ${signal}: ${cause.message}`, {
      hint: cause.hint ?? `nothing of session ${sessionId} is left running; check with: agentium status`,
      details: { ...cause.details, interrupted: signal, session: sessionId },
      cause: error,
    });
  } finally {
    interrupt.dispose();
  }
  if (options.json) printJson({ session: sessionId, provider, ...launched });
  else {
    process.stdout.write(`${launched.sessionId}\n`);
    progress(`instance ${launched.instance} is running in ${launched.location}; follow with: agentium status ${launched.sessionId}`);
  }
}

/**
 * One live session per issue: a second VM would race the first on the same branch and PR. A zone
 * or region that could not be listed may hold that session, so the check fails closed: refuse.
 */
function refuseSecondSession({ sessions, unreachable }: SessionList, plan: SessionPlan): void {
  const { issue, repo } = plan.session;
  const live = sessions.find((status) => status.issue === issue && sameRepo(status.repo, repo.fullName));
  if (live) {
    throw new PolicyError(`issue #${issue} already has a live session: ${live.sessionId} (${live.state})`, {
      hint: `follow it with: agentium status ${live.sessionId}, or stop it with: agentium destroy ${live.sessionId}`,
      details: { session: live.sessionId },
    });
  }
  if (unreachable.length > 0) {
    throw new AgentiumError('failure', `cannot check issue #${issue} for a live session: ${unreachable.map((entry) => entry.location).join(', ')} could not be listed`, {
      hint: 'nothing was created; try again when the zone/region answers (agentium status shows which ones do not)',
      details: { unreachable },
    });
  }
}

/**
 * SIGINT (Ctrl-C) and SIGTERM (a cancelled CI job) abort the launch, so the provider deletes what it
 * created instead of leaving a VM. The first signal removes the handlers: a second one gets Node's
 * default and ends the process at once.
 */
function onInterrupt(announce: (signal: NodeJS.Signals) => void) {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const dispose = () => signals.forEach((name) => process.off(name, handle));
  function handle(signal: NodeJS.Signals) {
    received = signal;
    dispose();
    announce(signal);
    controller.abort(new Error(`interrupted by ${signal}`));
  }
  signals.forEach((name) => process.on(name, handle));
  return { signal: controller.signal, received: () => received, dispose };
}

/** GCP labels carry the repository in label form (lower-case, `/` → `_`); AWS tags carry it as is. */
function sameRepo(reported: string | undefined, fullName: string): boolean {
  return reported === fullName || reported === gcpLabelValue(fullName);
}

/** The human dry-run: a short summary a reviewer can read, then the user-data itself. */
export function describePlan(plan: SessionPlan, awsRegion?: string): string {
  const { session, container } = plan;
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(bytes % 1024 ** 3 === 0 ? 0 : 1)} GiB`;
  const permissions = Object.entries(plan.githubToken.permissions)
    .map(([name, level]) => `${name}:${level}`)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['session', session.id],
    ['issue', `${session.repo.fullName}#${session.issue} → branch ${session.branch}`],
    ['provider', placement(plan, awsRegion)],
    ['lifetime', `${formatDuration(session.lifetimeSeconds)} (deadline ${session.deadline}); agent timeout ${formatDuration(session.agent.timeoutSeconds)}`],
    ['token', `${permissions} on ${plan.githubToken.repositories.join(', ')} only; revoked at the end`],
    ['agent', `${session.agent.name} ${container.image} as ${container.user}`],
    [
      'limits',
      `${container.limits.cpus} CPUs, ${gib(container.limits.memoryBytes)} memory (no swap), ${container.limits.pids} processes, read-only root, all capabilities dropped`,
    ],
    ['network', container.network.allow.length > 0 ? `internal; no egress (the proxy that will allow ${container.network.allow.join(', ')} is not built yet)` : 'internal; no egress'],
    ['controller', session.controller.image],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  const summary = rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`).join('\n');
  return `Agentium dry run: nothing was created.\n${summary}\n\n--- user-data (cloud-init) ---\n${plan.userData}`;
}

function placement(plan: SessionPlan, awsRegion: string | undefined): string {
  const request = plan.request;
  if (request && 'instanceResource' in request) {
    const spot = request.instanceResource.scheduling.provisioningModel === 'SPOT' ? 'spot' : 'on-demand';
    return `gcp ${request.project}, zone ${request.zone}, ${request.instanceResource.machineType.split('/').pop()}, ${spot}, no external IP unless configured`;
  }
  if (request && 'ImageId' in request) {
    const spot = 'InstanceMarketOptions' in request ? 'spot' : 'on-demand';
    return `aws ${awsRegion ?? ''}, ${request.InstanceType}, ${spot}, image ${request.ImageId}, IMDSv2 only, terminate on shutdown`;
  }
  return 'local Docker Engine (no VM)';
}
