#!/usr/bin/env node
/**
 * `agentium-controller`: the program cloud-init starts on the VM (cloud-init/render.ts). It reads
 * the session spec from AGENTIUM_SESSION_FILE (default /etc/agentium/session.json), keeps its state
 * in AGENTIUM_STATE_DIR (default /var/lib/agentium; the simulator runs several controllers on one
 * host), runs the lifecycle (./lifecycle.ts) and exits with:
 *
 *   0  success: PR opened/updated, or the agent changed nothing
 *   1  failure: the agent failed or timed out, the deadline hit, or the session failed
 *   2  the session spec could not be read (nothing ran; the cloud's lifetime cap deletes the VM)
 *   6  the policy gate refused the agent's changes (nothing was pushed)
 *
 * SIGTERM / SIGINT (spot reclaim, `docker stop`) stop the agent and run the final steps.
 */
import { appendFileSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controllerStateDir, sessionSpecPath } from '../cloud-init/render.js';
import { ExitCode, toAgentiumError } from '../src/errors.js';
import { specVersion, type SessionSpec } from '../src/session/spec.js';
import { loadControllerCloud } from './cloud/index.js';
import { runSession } from './lifecycle.js';
import { dockerAgentRuntime } from './steps/agent.js';

export function readSpecFile(path: string): SessionSpec {
  const spec = JSON.parse(readFileSync(path, 'utf8')) as SessionSpec;
  if (spec.version !== specVersion) throw new Error(`session spec version ${String(spec.version)} is not ${specVersion}`);
  if (typeof spec.id !== 'string' || !Number.isSafeInteger(spec.issue) || Number.isNaN(Date.parse(spec.deadline))) {
    throw new Error('the session spec lacks an id, issue or deadline');
  }
  return spec;
}

export async function controllerMain(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const specPath = env.AGENTIUM_SESSION_FILE || sessionSpecPath;
  let spec: SessionSpec;
  try {
    spec = readSpecFile(specPath);
  } catch (error) {
    process.stderr.write(`agentium-controller: cannot read the session spec ${specPath}: ${toAgentiumError(error).message}\n`);
    return ExitCode.usage;
  }
  const stateDir = env.AGENTIUM_STATE_DIR || controllerStateDir;
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'controller.log');
  // Lines arrive here already redacted (lifecycle.ts); the file is what `agentium logs` ships.
  const write = (line: string) => {
    process.stderr.write(`${line}\n`);
    appendFileSync(logFile, `${line}\n`);
  };
  const { Redactor } = await import('../src/redactor/index.js');
  const redactor = new Redactor();
  const cloud = await loadControllerCloud(spec, { local: { stateDir, write, env } });
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(new Error(`controller received ${signal}`));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const result = await runSession({
      spec,
      cloud,
      redactor,
      runtime: dockerAgentRuntime({ pullMissingImage: spec.provider !== 'local' }),
      stateDir,
      write,
      signal: stop.signal,
    });
    return result.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  process.exitCode = await controllerMain();
}
