/**
 * `agentium run --local`: the same controller lifecycle, in this process, against the local Docker
 * Engine, with no VM. Every container rule holds (the agent gets the same plan, network and
 * mounts). Credentials (docs/local-mode.md):
 *   - a GitHub App: github.appId + github.privateKeySecret in the config, and the key file named
 *     by GITHUB_APP_PRIVATE_KEY_FILE (or a file named like the secret in ~/.agentium/secrets);
 *   - or, with no App configured, GITHUB_TOKEN (a token for your own repositories). Commits are
 *     then authored by GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL (default agentium <agentium@users.noreply.github.com>).
 * (Not AGENTIUM_* names: those belong to the config, and the loader refuses ones that look like a
 * misspelt key.)
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { printJson, progress } from '../src/output.js';
import type { SessionPlan } from '../src/session/plan.js';
import { createLocalControllerCloud } from './cloud/local.js';
import { runSession, type AgentRuntime, type SessionResult } from './lifecycle.js';
import { dockerAgentRuntime } from './steps/agent.js';
import { defaultLocalIdentity } from './steps/token.js';

export interface LocalSessionOptions {
  json: boolean;
  env?: NodeJS.ProcessEnv;
  /** Default ~/.agentium/sessions/<session id>. */
  stateDir?: string;
  /** Default ~/.agentium/secrets. */
  secretsDir?: string;
  runtime?: AgentRuntime;
  write?: (line: string) => void;
  fetch?: typeof fetch;
}

export async function runLocalSession(plan: SessionPlan, options: LocalSessionOptions): Promise<SessionResult> {
  const env = options.env ?? process.env;
  const spec = plan.session;
  const home = join(homedir(), '.agentium');
  const stateDir = options.stateDir ?? join(home, 'sessions', spec.id);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const write = options.write ?? progress;
  const keyFile = env.GITHUB_APP_PRIVATE_KEY_FILE;
  const cloud = createLocalControllerCloud({
    stateDir,
    secretsDir: options.secretsDir ?? join(home, 'secrets'),
    secretFiles: keyFile && spec.github.privateKeySecret ? { [spec.github.privateKeySecret]: keyFile } : {},
    env,
    write,
  });
  const { Redactor } = await import('../src/redactor/index.js');
  const stop = new AbortController();
  // Ctrl-C and a plain `kill` both stop the agent and still run the final steps.
  const onSignal = () => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  write(`agentium: local session ${spec.id} for ${spec.repo.fullName}#${spec.issue}; state in ${stateDir}`);
  try {
    const result = await runSession({
      spec,
      cloud,
      redactor: new Redactor(),
      runtime: options.runtime ?? dockerAgentRuntime({ pullMissingImage: false }),
      stateDir,
      plan: plan.container,
      write,
      fetch: options.fetch,
      signal: stop.signal,
      localIdentity: {
        name: env.GIT_AUTHOR_NAME || defaultLocalIdentity.name,
        email: env.GIT_AUTHOR_EMAIL || defaultLocalIdentity.email,
      },
    });
    const pullRequest = result.outcome.kind === 'success' ? result.outcome.pullRequest : undefined;
    if (options.json) {
      printJson({ session: spec.id, provider: 'local', outcome: result.outcome.kind, exitCode: result.exitCode, summary: result.summary, pullRequest, final: result.final, stateDir });
    } else {
      if (pullRequest) process.stdout.write(`${pullRequest.htmlUrl}\n`);
      write(`agentium: ${result.summary}`);
    }
    process.exitCode = result.exitCode;
    return result;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
