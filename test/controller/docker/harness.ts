/**
 * Shared set-up for the real-Docker tests: is Docker here (CI must have it), a session plan for the
 * test agent image, a workspace + prompt file owned like the controller will own them, one agent
 * run with its output collected, and a sweep of everything labelled `agentium-test=1`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Transform } from 'node:stream';
import { loadConfig } from '../../../src/config/load.js';
import { buildSessionSpec } from '../../../src/session/spec.js';
import type { SessionSpec } from '../../../src/session/spec.js';
import { agentContainerPlan, agentNetworkName } from '../../../src/session/container.js';
import { sessionLabel } from '../../../src/labels.js';
import type { AgentContainerPlan } from '../../../src/session/container.js';
import { dockerEngine, isDockerStatus } from '../../../controller/docker/engine.js';
import { agentOwner, runAgentContainer } from '../../../controller/docker/agent-container.js';
import type { AgentRunResult, AgentStream } from '../../../controller/docker/agent-container.js';
import { agentBridgeName, createAgentNetwork } from '../../../controller/docker/network.js';
import type { AgentNetwork, AgentNetworkOptions } from '../../../controller/docker/network.js';
import { agentFirewallRules, iptablesFirewall } from '../../../controller/docker/firewall.js';
import { buildTestAgentImage, testLabel } from '../../fakes/agent-image/build.js';

export const engine = dockerEngine();
export const testLabelFilter = Object.entries(testLabel).map(([key, value]) => `${key}=${value}`);

/**
 * Docker is required. In CI a missing engine fails the suite loudly; locally the suite is skipped
 * with a message saying why.
 */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await engine.request('GET', '/version');
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`Docker Engine is required in CI and is not reachable: ${String(error)}`);
    console.warn(`SKIPPING real-Docker tests: no Docker Engine reachable (${String(error)}). Start dockerd to run them.`);
    return false;
  }
}

export interface TestSession {
  spec: SessionSpec;
  plan: AgentContainerPlan;
}

export async function testSession(agent: { timeout?: string; pids?: number; memory?: string; cpus?: number } = {}): Promise<TestSession> {
  const image = await buildTestAgentImage();
  // Through the one config loader (no file, no env), as flags would set it.
  const settings: Record<string, unknown> = { image, timeout: '30s', ...agent };
  const { config } = loadConfig({
    path: join(tmpdir(), 'agentium-no-such-config.yaml'),
    mustExist: false,
    env: {},
    flags: [
      { flag: '--repo', path: ['repo'], value: 'octo/widgets' },
      ...Object.entries(settings).map(([key, value]) => ({ flag: `--agent-${key}`, path: ['agent', key], value })),
    ],
  });
  const spec = buildSessionSpec(config, { provider: 'local', issue: 5, now: new Date(), nonce: randomBytes(4).toString('hex') });
  createdSessions.add(spec.id);
  return { spec, plan: agentContainerPlan(spec) };
}

export interface TestWorkspace {
  root: string;
  workspaceDir: string;
  promptFile: string;
  cleanup(): void;
}

/** Workspace owned by the agent's uid (as the controller must prepare it) and a world-readable prompt. */
export function testWorkspace(plan: AgentContainerPlan, prompt: string): TestWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'agentium-agent-'));
  chmodSync(root, 0o755);
  const workspaceDir = join(root, 'workspace');
  mkdirSync(workspaceDir);
  const { uid, gid } = agentOwner(plan);
  chownSync(workspaceDir, uid, gid);
  const promptFile = join(root, 'prompt.md');
  writeFileSync(promptFile, prompt, { mode: 0o644 });
  return { root, workspaceDir, promptFile, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface CollectedRun {
  result: AgentRunResult;
  stdout: string;
  stderr: string;
  chunks: Array<{ stream: AgentStream; text: string }>;
}

export interface RunOptions {
  network?: AgentNetwork;
  networkOptions?: AgentNetworkOptions;
  redact?: (stream: AgentStream) => Transform;
  signal?: AbortSignal;
  /** Called once, on the first output chunk containing this marker; the run waits for it. */
  onMarker?: { marker: string; action: (network: AgentNetwork) => Promise<void> };
}

/** Text the agent prints before waiting for `release()`; see `heldScript`. */
export const heldMarker = 'agent-held';

/** A script that prints the held marker, then waits until the test creates /workspace/.release. */
export function heldScript(before = ''): string {
  return `${before}\necho ${heldMarker}\nwhile [ ! -e /workspace/.release ]; do sleep 0.1; done\necho released`;
}

export async function runCollected(session: TestSession, workspace: TestWorkspace, options: RunOptions = {}): Promise<CollectedRun> {
  const network = options.network ?? (await createAgentNetwork(session.spec, { labels: testLabel, ...options.networkOptions }));
  const chunks: CollectedRun['chunks'] = [];
  let markerAction: Promise<void> | undefined;
  const result = await runAgentContainer(session.plan, {
    network,
    workspaceDir: workspace.workspaceDir,
    promptFile: workspace.promptFile,
    redact: options.redact ?? (() => new PassThrough()),
    signal: options.signal,
    onOutput(chunk, stream) {
      const text = chunk.toString('utf8');
      chunks.push({ stream, text });
      if (options.onMarker && markerAction === undefined && text.includes(options.onMarker.marker)) {
        markerAction = options.onMarker.action(network).finally(() => writeFileSync(join(workspace.workspaceDir, '.release'), ''));
      }
    },
  });
  await markerAction;
  const joined = (stream: AgentStream) =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.text)
      .join('');
  return { result, stdout: joined('stdout'), stderr: joined('stderr'), chunks };
}

/** `key=value` lines of probe output. */
export function probeValues(output: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([A-Za-z_.]+[A-Za-z0-9_.]*)=(.*)$/.exec(line);
    if (match?.[1] && !values.has(match[1])) values.set(match[1], match[2] ?? '');
  }
  return values;
}

export async function inspectContainer(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await engine.request<Record<string, unknown>>('GET', `/containers/${encodeURIComponent(name)}/json`);
  } catch (error) {
    if (isDockerStatus(error, 404)) return undefined;
    throw error;
  }
}

export async function networkExists(name: string): Promise<boolean> {
  try {
    await engine.request('GET', `/networks/${encodeURIComponent(name)}`);
    return true;
  } catch (error) {
    if (isDockerStatus(error, 404)) return false;
    throw error;
  }
}

/** Sessions this test file created: its sweep touches only these (test files run in parallel). */
const createdSessions = new Set<string>();

/**
 * Remove containers and networks (and their firewall rules) left by this file's sessions; the
 * runtime should have left none, so callers assert the counts are zero.
 */
export async function sweepTestLeftovers(): Promise<{ containers: number; networks: number }> {
  let containers = 0;
  let networks = 0;
  for (const sessionId of createdSessions) {
    const filters = encodeURIComponent(JSON.stringify({ label: [...testLabelFilter, `${sessionLabel}=${sessionId}`] }));
    for (const container of await engine.request<Array<{ Id: string }>>('GET', `/containers/json?all=true&filters=${filters}`)) {
      containers += 1;
      await engine.request('DELETE', `/containers/${container.Id}?force=true&v=true`).catch(() => undefined);
    }
    for (const network of await engine.request<Array<{ Id: string; Name: string }>>('GET', `/networks?filters=${filters}`)) {
      networks += 1;
      await engine.request('DELETE', `/networks/${network.Id}`).catch(() => undefined);
    }
    const spec = { id: sessionId };
    await iptablesFirewall().remove(agentFirewallRules(agentBridgeName(agentNetworkName(spec))));
  }
  createdSessions.clear();
  return { containers, networks };
}

/**
 * A plain bridge network of our own for the "another network" target, labelled for the sweep
 * under `sessionId` so it goes with that session's leftovers.
 */
export async function createTestNetwork(sessionId: string, name: string): Promise<{ id: string; gateway: string }> {
  const created = await engine.request<{ Id: string }>('POST', '/networks/create', {
    Name: name,
    Driver: 'bridge',
    Internal: true,
    Labels: { ...testLabel, [sessionLabel]: sessionId },
  });
  const inspect = await engine.request<{ IPAM: { Config: Array<{ Gateway: string }> } }>('GET', `/networks/${created.Id}`);
  return { id: created.Id, gateway: inspect.IPAM.Config[0]?.Gateway ?? '' };
}

/** An HTTP server container (busybox httpd, unprivileged port) on a network we created. */
export async function startServerContainer(
  sessionId: string,
  network: string,
  alias: string,
): Promise<{ id: string; ip: string; remove(): Promise<void> }> {
  const image = await buildTestAgentImage();
  const created = await engine.request<{ Id: string }>('POST', '/containers/create', {
    Image: image,
    Entrypoint: ['httpd', '-f', '-p', '8080', '-h', '/agent'],
    User: '1000:1000',
    Labels: { ...testLabel, [sessionLabel]: sessionId },
    HostConfig: { NetworkMode: network, CapDrop: ['ALL'], ReadonlyRootfs: true, LogConfig: { Type: 'none', Config: {} } },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } },
  });
  await engine.request('POST', `/containers/${created.Id}/start`);
  const inspect = await engine.request<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>(
    'GET',
    `/containers/${created.Id}/json`,
  );
  return {
    id: created.Id,
    ip: inspect.NetworkSettings.Networks[network]?.IPAddress ?? '',
    remove: async () => {
      await engine.request('DELETE', `/containers/${created.Id}?force=true`).catch((error: unknown) => {
        if (!isDockerStatus(error, 404)) throw error;
      });
    },
  };
}
