/**
 * Runs the agent container from the agent container plan (src/session/container.ts) — the same
 * plan `run --dry-run` prints. `containerCreateBody` is the one place the plan becomes Engine API
 * fields; nothing here decides a security setting on its own (SECURITY-CHECKLIST 15–20, 23).
 */
import { isAbsolute } from 'node:path';
import type { Transform } from 'node:stream';
import type { AgentContainerPlan } from '../../src/session/container.js';
import { AgentiumError, NotFoundError, UsageError } from '../../src/errors.js';
import { dockerEngine, isDockerStatus } from './engine.js';
import type { DockerEngine } from './engine.js';
import type { AgentNetwork } from './network.js';
import { createFrameDemuxer } from './output.js';
import type { AgentStream } from './output.js';

export type { AgentStream } from './output.js';

export interface AgentMountSources {
  /** Host directory bind-mounted read-write at the plan's workspace target (owned by the plan's user). */
  workspaceDir: string;
  /** Host file bind-mounted read-only at the plan's prompt target (readable by the plan's user). */
  promptFile: string;
}

export interface RunAgentOptions extends AgentMountSources {
  /** From `createAgentNetwork(spec)`. The run owns it from here: it is removed when the run ends. */
  network: AgentNetwork;
  /**
   * The output seam: one transform per stream, normally the redactor. Required on purpose, so no raw
   * byte of agent output can reach `onOutput` without passing it. Stateful transforms are fine
   * (each is ended when the container's output ends, so carried-over bytes are flushed).
   */
  redact: (stream: AgentStream) => Transform;
  /** Receives only what `redact` emitted. */
  onOutput: (chunk: Buffer, stream: AgentStream) => void;
  /** Abort (e.g. the session deadline): the container is killed and removed, the run rejects with the reason. */
  signal?: AbortSignal;
  engine?: DockerEngine;
}

export interface AgentRunResult {
  exitCode: number;
  timedOut: boolean;
  /** From container start to exit. */
  durationMs: number;
}

/** How long to wait for the last output after the container has exited before closing the stream. */
const outputDrainMs = 5_000;

/** The plan's `uid:gid`, for the caller that prepares the workspace and prompt file ownership. */
export function agentOwner(plan: Pick<AgentContainerPlan, 'user'>): { uid: number; gid: number } {
  const [uid = Number.NaN, gid = Number.NaN] = plan.user.split(':').map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) {
    throw new UsageError(`agent user must be a numeric non-root uid:gid, got ${plan.user}`);
  }
  return { uid, gid };
}

/** The Engine API `POST /containers/create` body: exactly the plan, plus mount sources and labels. */
export function containerCreateBody(
  plan: AgentContainerPlan,
  sources: AgentMountSources,
  network: Pick<AgentNetwork, 'name' | 'labels' | 'egressEnv'>,
): Record<string, unknown> {
  if (network.name !== plan.network.name) {
    throw new UsageError(`agent network ${network.name} is not the plan's network ${plan.network.name}`);
  }
  for (const path of [sources.workspaceDir, sources.promptFile]) {
    if (!isAbsolute(path)) throw new UsageError(`mount source must be an absolute path, got ${path}`);
  }
  for (const key of Object.keys(network.egressEnv)) {
    if (key in plan.env) throw new UsageError(`egress env ${key} would override the plan's env`);
  }
  const source = { workspace: sources.workspaceDir, prompt: sources.promptFile } as const;
  const env = { ...plan.env, ...network.egressEnv };
  return {
    Image: plan.image,
    // `agent.command` replaces what the image runs ("default: the image entrypoint"), so it is the
    // entrypoint: as `Cmd` it would only become arguments to an image that has an ENTRYPOINT.
    ...(plan.command ? { Entrypoint: plan.command, Cmd: [] } : {}),
    User: plan.user,
    WorkingDir: plan.workdir,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: network.labels,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    HostConfig: {
      Privileged: plan.privileged,
      ReadonlyRootfs: plan.readOnlyRootFilesystem,
      CapDrop: plan.capDrop,
      CapAdd: plan.capAdd,
      SecurityOpt: plan.securityOpt,
      Tmpfs: plan.tmpfs,
      NanoCpus: plan.limits.nanoCpus,
      Memory: plan.limits.memoryBytes,
      MemorySwap: plan.limits.memorySwapBytes,
      PidsLimit: plan.limits.pids,
      NetworkMode: plan.network.name,
      // `Mounts`, not `Binds`: a missing source is an error instead of a new root-owned directory.
      Mounts: plan.mounts.map((mount) => ({
        Type: 'bind',
        Source: source[mount.kind],
        Target: mount.target,
        ReadOnly: mount.readOnly,
      })),
      // Output is read from the attach stream; the `none` driver keeps unredacted output off the disk.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
    NetworkingConfig: { EndpointsConfig: { [plan.network.name]: {} } },
  };
}

export async function runAgentContainer(plan: AgentContainerPlan, options: RunAgentOptions): Promise<AgentRunResult> {
  const engine = options.engine ?? dockerEngine();
  let containerId: string | undefined;
  let outcome: { ok: true; result: AgentRunResult } | { ok: false; error: unknown };
  try {
    const body = containerCreateBody(plan, options, options.network);
    options.signal?.throwIfAborted();
    containerId = await createContainer(engine, plan.image, options.network.name, body);
    outcome = { ok: true, result: await attachStartAndWait(engine, containerId, plan.timeoutSeconds, options) };
  } catch (error) {
    outcome = { ok: false, error };
  }

  // Always: the container, then the network (and its firewall rules). A cleanup failure never hides
  // the run's own error, and never passes silently either.
  const cleanupErrors: unknown[] = [];
  if (containerId !== undefined) {
    await engine.request('DELETE', `/containers/${containerId}?force=true&v=true`).catch((error: unknown) => {
      if (!isDockerStatus(error, 404)) cleanupErrors.push(error);
    });
  }
  await options.network.remove().catch((error: unknown) => cleanupErrors.push(error));
  if (!outcome.ok) throw outcome.error;
  if (cleanupErrors.length > 0) {
    throw new AgentiumError('failure', `agent cleanup failed: ${cleanupErrors.map(String).join('; ')}`, { cause: cleanupErrors[0] });
  }
  return outcome.result;
}

async function createContainer(engine: DockerEngine, image: string, name: string, body: Record<string, unknown>): Promise<string> {
  try {
    const created = await engine.request<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, body);
    return created.Id;
  } catch (error) {
    if (!isDockerStatus(error, 404)) throw error;
    throw new NotFoundError(`agent image ${image} is not on this host`, {
      hint: 'the controller pulls the agent image before the agent step',
      cause: error,
    });
  }
}

async function attachStartAndWait(
  engine: DockerEngine,
  containerId: string,
  timeoutSeconds: number,
  options: RunAgentOptions,
): Promise<AgentRunResult> {
  const { signal } = options;
  let outputError: unknown;
  let timedOut = false;
  const kill = () =>
    void engine.request('POST', `/containers/${containerId}/kill?signal=SIGKILL`).catch(() => {
      // 404/409: already gone or stopped; anything else surfaces when wait or remove fails.
    });

  // Attach before start so not a byte of output is missed.
  const socket = await engine.upgrade(`/containers/${containerId}/attach?stream=1&stdout=1&stderr=1`);
  const transforms: Record<AgentStream, Transform> = { stdout: options.redact('stdout'), stderr: options.redact('stderr') };
  const flushed = Promise.all(
    (Object.entries(transforms) as Array<[AgentStream, Transform]>).map(
      ([stream, transform]) =>
        new Promise<void>((resolve) => {
          transform.on('data', (chunk: Buffer | string) => options.onOutput(Buffer.from(chunk), stream));
          transform.on('end', resolve);
          transform.on('error', (error) => {
            // A failing redactor means output can no longer be passed on safely: stop the agent.
            outputError ??= error;
            kill();
            resolve();
          });
        }),
    ),
  );
  socket.on('data', createFrameDemuxer((stream, payload) => transforms[stream].write(payload)));
  const socketClosed = new Promise<void>((resolve) => {
    for (const event of ['close', 'end', 'error']) socket.on(event, () => resolve());
  });

  signal?.addEventListener('abort', kill, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    signal?.throwIfAborted();
    await engine.request('POST', `/containers/${containerId}/start`);
    const startedAt = performance.now();
    // The agent's time starts when it does (durationMs is measured from the same point).
    timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutSeconds * 1000);
    // An abort that raced the start found nothing running to kill.
    if (signal?.aborted) kill();
    const exit = await engine.request<{ StatusCode: number }>('POST', `/containers/${containerId}/wait`);
    const durationMs = Math.round(performance.now() - startedAt);

    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([socketClosed, new Promise((resolve) => (drainTimer = setTimeout(resolve, outputDrainMs)))]);
    clearTimeout(drainTimer);
    socket.destroy();
    for (const transform of Object.values(transforms)) transform.end();
    await flushed;

    signal?.throwIfAborted();
    if (outputError !== undefined) {
      throw new AgentiumError('failure', `agent output could not be passed through the redactor: ${String(outputError)}`, {
        cause: outputError,
      });
    }
    return { exitCode: exit.StatusCode, timedOut, durationMs };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', kill);
    socket.destroy();
  }
}
