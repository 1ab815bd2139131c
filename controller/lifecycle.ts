/**
 * One session, start to end (DESIGN §2, controller steps 1–8). Each step is a file in
 * controller/steps/; this file only orders them and guarantees the end: report, revoke and
 * terminate run in `finally` on EVERY path (success, refusal, agent failure or timeout, a thrown
 * error, the deadline), each awaited with its own timeout. The watchdog races the work: when it
 * fires, the agent is killed and the final steps start at once, whatever the work is doing.
 *
 * Every dependency is injected (cloud, agent runtime, redactor, clock, fetch), so the tests run
 * this exact code against the fake GitHub, real git and real Docker.
 */
import type { Transform } from 'node:stream';
import { createGitHubClient, fetchIssue, type GitHubClient } from '../src/github/index.js';
import { toAgentiumError } from '../src/errors.js';
import { agentContainerPlan, type AgentContainerPlan } from '../src/session/container.js';
import type { SessionSpec } from '../src/session/spec.js';
import type { ControllerCloud } from './cloud/types.js';
import { agentOwner } from './docker/agent-container.js';
import { runAgent, type AgentRuntime, type AgentStream } from './steps/agent.js';
import { collectChanges } from './steps/changes.js';
import { readMarker } from './steps/marker.js';
import { evaluatePolicy, type SecretFinding } from './steps/policy.js';
import { renderPrompt, writePromptFile } from './steps/prompt.js';
import { commitMessage, publishCandidate, resumePublish } from './steps/publish.js';
import { commentOutcome, outcomeExitCode, outcomeSummary, type Outcome } from './steps/report.js';
import { revokeSessionToken } from './steps/revoke.js';
import { readSessionSecrets } from './steps/secrets.js';
import { terminateSelf } from './steps/terminate.js';
import { withTimeout } from './steps/timeout.js';
import { acquireSessionToken, type CommitIdentity, type SessionToken } from './steps/token.js';
import { startWatchdog, watchdogMarginMs } from './steps/watchdog.js';
import { prepareWorkspace } from './steps/workspace.js';

export type { Outcome } from './steps/report.js';
export type { AgentRuntime } from './steps/agent.js';

/** What the controller needs of src/redactor's `Redactor`. */
export interface SessionRedactor {
  registerSecret(value: string): void;
  redact(text: string): string;
  scan(text: string): SecretFinding[];
  createStream(): Transform;
}

/** The controller's log: every line is redacted before it reaches the sink. */
export interface ControllerLog {
  info(message: string): void;
  agent(stream: AgentStream, line: string): void;
}

export interface StepTimeouts {
  comment: number;
  revoke: number;
  status: number;
  terminate: number;
  /** How long the final steps wait for interrupted work (the agent container's removal) to settle. */
  settle: number;
}

/** Together (100 s) within the watchdog's largest margin (2 min), so the final steps finish before the cloud's cap. */
export const defaultStepTimeouts: StepTimeouts = { comment: 20_000, revoke: 15_000, status: 10_000, terminate: 45_000, settle: 10_000 };

export interface ControllerDeps {
  spec: SessionSpec;
  cloud: ControllerCloud;
  redactor: SessionRedactor;
  runtime: AgentRuntime;
  /** Persistent state: workspace, controller repo, prompt file, publish marker. */
  stateDir: string;
  /** Default: agentContainerPlan(spec), the plan `run --dry-run` prints. */
  plan?: AgentContainerPlan;
  /** Receives every line the controller emits, already redacted. Default: stderr. */
  write?: (line: string) => void;
  now?: () => number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** External stop (SIGTERM): handled like the deadline. */
  signal?: AbortSignal;
  watchdogMarginMs?: number;
  stepTimeouts?: Partial<StepTimeouts>;
  /** Commit identity when using a plain GitHub token (local mode). */
  localIdentity?: CommitIdentity;
  /** Clone URL override (default: derived from spec.github.apiUrl). */
  remoteUrl?: string;
}

export type FinalStepStatus = 'ok' | 'skipped' | `failed: ${string}`;

export interface SessionResult {
  outcome: Outcome;
  exitCode: number;
  summary: string;
  /** How each final step went. */
  final: { comment: FinalStepStatus; revoke: FinalStepStatus; status: FinalStepStatus; terminate: FinalStepStatus };
  /** Timestamps (epoch ms) for the overhead benchmark. */
  timings: Record<string, number>;
}

class DeadlineReached extends Error {}

export async function runSession(deps: ControllerDeps): Promise<SessionResult> {
  const { spec, cloud, redactor } = deps;
  const now = deps.now ?? Date.now;
  const timeouts = { ...defaultStepTimeouts, ...deps.stepTimeouts };
  const write = deps.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const redact = (text: string) => redactor.redact(text);
  const log: ControllerLog = {
    info: (message) => write(redact(`[agentium ${spec.id}] ${message}`)),
    agent: (stream, line) => write(redact(`[agent ${stream}] ${line}`)),
  };
  const timings: Record<string, number> = { start: now() };
  const status = async (phase: string, detail: Record<string, string> = {}) => {
    timings[phase] = now();
    log.info(`phase ${phase}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`);
    const clean = Object.fromEntries(Object.entries(detail).map(([key, value]) => [key, redact(value)]));
    await withTimeout('status report', timeouts.status, () => cloud.reportStatus(phase, clean)).catch((error: unknown) =>
      log.info(`could not report status ${phase}: ${toAgentiumError(error).message}`),
    );
  };

  // Step 1: the watchdog, before anything else can hang.
  const watchdog = startWatchdog({
    deadlineMs: Date.parse(spec.deadline),
    marginMs: deps.watchdogMarginMs ?? watchdogMarginMs(spec.lifetimeSeconds),
    now,
  });
  const stop = new AbortController();
  const onStop = (reason: unknown) => {
    if (!stop.signal.aborted) stop.abort(reason);
  };
  watchdog.signal.addEventListener('abort', () => onStop(new DeadlineReached('session deadline reached')), { once: true });
  // A controller restarted after its deadline finds the watchdog already fired.
  if (watchdog.signal.aborted) onStop(new DeadlineReached('session deadline reached'));
  deps.signal?.addEventListener('abort', () => onStop(deps.signal?.reason ?? new Error('controller stopped')), { once: true });
  if (deps.signal?.aborted) onStop(deps.signal.reason);
  const stopped = new Promise<never>((_, reject) => {
    if (stop.signal.aborted) reject(stop.signal.reason);
    stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true });
  });
  stopped.catch(() => undefined);

  let token: SessionToken | undefined;
  let client: GitHubClient | undefined;

  const work = async (): Promise<Outcome> => {
    await status('secrets');
    const secrets = await readSessionSecrets(spec, cloud, redactor);
    await status('token');
    const session = await acquireSessionToken({ spec, secrets, redactor, now: deps.now, fetch: deps.fetch, sleep: deps.sleep, localIdentity: deps.localIdentity });
    if (stop.signal.aborted) {
      // The final steps may already have run (a restart after the deadline): revoke it here.
      await session.revoke().catch(() => undefined);
      stop.signal.throwIfAborted();
    }
    token = session;
    client = createGitHubClient({ apiUrl: spec.github.apiUrl, token: () => session.token(), fetch: deps.fetch, sleep: deps.sleep });
    const publishContext = { spec, stateDir: deps.stateDir, client, token: () => session.token(), redact, signal: stop.signal };

    // A restarted controller: what this session already pushed is not pushed again.
    const marker = await readMarker(deps.stateDir, spec.id);
    if (marker) {
      log.info(
        marker.phase === 'pushing'
          ? `resuming: finishing the interrupted push of ${marker.commit.slice(0, 12)}; the agent does not run again`
          : `resuming: branch already pushed at ${marker.commit.slice(0, 12)} (${marker.phase}); nothing will be pushed again`,
      );
      await status('publish', { resumed: marker.phase });
      return { kind: 'success', pullRequest: await resumePublish({ ...publishContext, marker }) };
    }

    const issue = await fetchIssue(client, { owner: spec.repo.owner, repo: spec.repo.name }, spec.issue);
    stop.signal.throwIfAborted();
    await status('workspace');
    const plan = deps.plan ?? agentContainerPlan(spec);
    const owner = agentOwner(plan);
    const workspace = await prepareWorkspace({ spec, stateDir: deps.stateDir, token: () => session.token(), owner, remoteUrl: deps.remoteUrl });
    const promptFile = await writePromptFile(deps.stateDir, redact(renderPrompt(spec, issue)));

    await status('agent');
    stop.signal.throwIfAborted();
    const agent = await runAgent({ runtime: deps.runtime, spec, plan, workspaceDir: workspace.dir, promptFile, signal: stop.signal, redactor, log });
    timings.agentEnd = now();
    log.info(`agent finished: exit ${agent.exitCode}${agent.timedOut ? ' (timed out)' : ''} after ${agent.durationMs} ms`);
    if (agent.timedOut) return { kind: 'timed_out', reason: 'agent-timeout' };
    if (agent.exitCode !== 0) return { kind: 'agent_failed', exitCode: agent.exitCode };

    stop.signal.throwIfAborted();
    await status('policy');
    const candidate = await collectChanges({
      workspace,
      stateDir: deps.stateDir,
      issue: spec.issue,
      identity: session.identity,
      message: redact(commitMessage(spec, issue.title)),
      maxDiffBytes: spec.policy.maxDiffBytes,
      nowSeconds: Math.floor(now() / 1000),
    });
    if (candidate.commit === undefined) return { kind: 'no_changes' };
    const verdict = evaluatePolicy({ ...candidate, issue: spec.issue, limits: spec.policy, scan: (text) => redactor.scan(text) });
    if (!verdict.allowed) return { kind: 'refused', violations: verdict.violations };

    await status('publish', { files: String(candidate.files.length) });
    const pullRequest = await publishCandidate({ ...publishContext, workspace, candidate: { ...candidate, commit: candidate.commit }, issue });
    return { kind: 'success', pullRequest };
  };

  let outcome: Outcome;
  const running = work();
  try {
    outcome = await Promise.race([running, stopped]);
  } catch (error) {
    if (error instanceof DeadlineReached || watchdog.signal.aborted) outcome = { kind: 'timed_out', reason: 'deadline' };
    else outcome = { kind: 'failed', message: redact(toAgentiumError(error).message) };
  } finally {
    watchdog.stop();
  }
  running.catch(() => undefined);
  timings.workEnd = now();
  // Whatever is still running (the work lost a race against the deadline) stops now.
  onStop(new Error('session ending'));

  // Step 8, on every path. Each step has its own timeout; one failing never skips the next.
  const final: SessionResult['final'] = { comment: 'skipped', revoke: 'skipped', status: 'skipped', terminate: 'skipped' };
  const summary = redact(outcomeSummary(outcome));
  log.info(`outcome: ${outcome.kind}: ${summary}`);
  const finalStep = async (name: keyof SessionResult['final'], ms: number, action: () => Promise<unknown>) => {
    try {
      await withTimeout(name, ms, action);
      final[name] = 'ok';
    } catch (error) {
      final[name] = `failed: ${redact(toAgentiumError(error).message)}`;
      log.info(`${name} failed: ${toAgentiumError(error).message}`);
    }
  };
  const issueClient = client;
  if (issueClient && token) {
    const botLogin = token.botLogin;
    await finalStep('comment', timeouts.comment, () => commentOutcome({ client: issueClient, spec, outcome, redact, botLogin }));
  }
  await finalStep('revoke', timeouts.revoke, async () => {
    const result = await revokeSessionToken(token);
    log.info(`token: ${result}`);
  });
  // Let interrupted work finish removing the agent container and network (bounded).
  await Promise.race([running.then(() => undefined, () => undefined), new Promise((resolve) => setTimeout(resolve, timeouts.settle).unref())]);
  const exitCode = outcomeExitCode(outcome);
  await finalStep('status', timeouts.status, () =>
    cloud.reportStatus('finished', { outcome: outcome.kind, exitCode: String(exitCode), summary, revoke: final.revoke }),
  );
  await finalStep('terminate', timeouts.terminate, () => terminateSelf(cloud));
  timings.end = now();
  return { outcome, exitCode, summary, final, timings };
}
