/**
 * Step 5: run the agent container from the plan `run --dry-run` prints (src/session/container.ts)
 * on its own internal network, with the workspace and the read-only prompt file as its only
 * mounts. Its stdout/stderr pass through the redactor's stream before anything sees them. The
 * runtime is injected (AgentRuntime); `dockerAgentRuntime` is the real one (controller/docker/).
 */
import type { Transform } from 'node:stream';
import type { AgentContainerPlan } from '../../src/session/container.js';
import type { SessionSpec } from '../../src/session/spec.js';
import { NotFoundError } from '../../src/errors.js';
import type { ControllerLog, SessionRedactor } from '../lifecycle.js';

export type AgentStream = 'stdout' | 'stderr';

export interface AgentRunRequest {
  spec: SessionSpec;
  plan: AgentContainerPlan;
  workspaceDir: string;
  promptFile: string;
  /** Aborted by the watchdog (deadline) or a shutdown signal: the container is killed. */
  signal: AbortSignal;
  /** One fresh redacting transform per stream. */
  redact: (stream: AgentStream) => Transform;
  /** Receives only redacted bytes. */
  onOutput: (chunk: Buffer, stream: AgentStream) => void;
}

export interface AgentRunResult {
  exitCode: number;
  /** Killed at the agent's own timeout (plan.timeoutSeconds). */
  timedOut: boolean;
  durationMs: number;
}

export interface AgentRuntime {
  run(request: AgentRunRequest): Promise<AgentRunResult>;
}

export interface DockerRuntimeOptions {
  /** Pull a missing agent image (on a VM). Off for local mode and tests: nothing is pulled there. */
  pullMissingImage?: boolean;
  /** Extra labels on the network and container (tests find leftovers by them). */
  labels?: Record<string, string>;
}

/** The real runtime: controller/docker (Engine API over the unix socket), loaded when first used. */
export function dockerAgentRuntime(options: DockerRuntimeOptions = {}): AgentRuntime {
  return {
    async run(request) {
      const [{ runAgentContainer }, { createAgentNetwork }, { dockerEngine, isDockerStatus }] = await Promise.all([
        import('../docker/agent-container.js'),
        import('../docker/network.js'),
        import('../docker/engine.js'),
      ]);
      const engine = dockerEngine();
      const image = request.plan.image;
      try {
        await engine.request('GET', `/images/${encodeURIComponent(image)}/json`);
      } catch (error) {
        if (!isDockerStatus(error, 404)) throw error;
        if (!options.pullMissingImage) {
          throw new NotFoundError(`the agent image ${image} is not on this machine`, { hint: `docker pull ${image} (or build it), then run again` });
        }
        // fromImage takes the pinned reference whole (name:tag or name@sha256:…).
        await engine.request('POST', `/images/create?fromImage=${encodeURIComponent(image)}`);
      }
      request.signal.throwIfAborted();
      const network = await createAgentNetwork(request.spec, { engine, labels: options.labels });
      return runAgentContainer(request.plan, {
        workspaceDir: request.workspaceDir,
        promptFile: request.promptFile,
        network,
        redact: request.redact,
        onOutput: request.onOutput,
        signal: request.signal,
        engine,
      });
    },
  };
}

/** Run the agent; its redacted output goes to the session log line by line, prefixed `agent|`. */
export async function runAgent(options: {
  runtime: AgentRuntime;
  spec: SessionSpec;
  plan: AgentContainerPlan;
  workspaceDir: string;
  promptFile: string;
  signal: AbortSignal;
  redactor: SessionRedactor;
  log: ControllerLog;
}): Promise<AgentRunResult> {
  const pending: Record<AgentStream, string> = { stdout: '', stderr: '' };
  const emit = (stream: AgentStream, final: boolean) => {
    const lines = pending[stream].split('\n');
    pending[stream] = final ? '' : (lines.pop() ?? '');
    for (const line of lines) if (line !== '' || !final) options.log.agent(stream, line);
  };
  try {
    return await options.runtime.run({
      spec: options.spec,
      plan: options.plan,
      workspaceDir: options.workspaceDir,
      promptFile: options.promptFile,
      signal: options.signal,
      redact: () => options.redactor.createStream(),
      onOutput: (chunk, stream) => {
        pending[stream] += chunk.toString('utf8');
        emit(stream, false);
      },
    });
  } finally {
    emit('stdout', true);
    emit('stderr', true);
  }
}
