/**
 * The agent's network: one `--internal` bridge per session, closed at the host by firewall rules
 * (./firewall.ts). Its only way out will be the egress proxy, which plugs in through `EgressGateway`:
 * it joins this network (a proxy container connected with an alias, or another endpoint) and returns
 * the environment the agent needs to use it (`HTTPS_PROXY`, the LLM base URL). Until that lands the
 * network has no way out at all.
 */
import { createHash } from 'node:crypto';
import { agentNetworkName } from '../../src/session/container.js';
import type { SessionSpec } from '../../src/session/spec.js';
import { managedLabel, sessionLabel } from '../../src/labels.js';
import { AgentiumError } from '../../src/errors.js';
import { dockerEngine, isDockerStatus } from './engine.js';
import type { DockerEngine } from './engine.js';
import { agentFirewallRules, iptablesFirewall } from './firewall.js';
import type { Firewall, FirewallRule } from './firewall.js';

export interface AgentNetworkInfo {
  id: string;
  name: string;
  /** Host interface of the bridge; fixed by us so firewall rules can name it before it exists. */
  bridge: string;
  subnet: string;
  gateway: string;
}

/** Seam for the egress proxy (a later issue). */
export interface EgressGateway {
  /** Join the agent network; return plain, non-secret env for the agent (e.g. `HTTPS_PROXY`). */
  attach(network: AgentNetworkInfo): Promise<{ env: Record<string, string> }>;
  /** Leave the network; called before the network is removed. Idempotent. */
  detach(network: AgentNetworkInfo): Promise<void>;
}

export interface AgentNetwork extends AgentNetworkInfo {
  /** Labels the network carries; the agent container gets the same ones. */
  labels: Record<string, string>;
  firewallRules: FirewallRule[];
  /** Env from the egress gateway, added to the plan's env (never overriding it). */
  egressEnv: Record<string, string>;
  /** Detach the proxy, remove the network, then its firewall rules. Idempotent. */
  remove(): Promise<void>;
}

export interface AgentNetworkOptions {
  engine?: DockerEngine;
  firewall?: Firewall;
  egress?: EgressGateway;
  /** Extra labels (tests add `agentium-test=1` to find leftovers). */
  labels?: Record<string, string>;
}

/** Linux interface names are at most 15 bytes; a hash of the network name keeps them unique. */
export function agentBridgeName(networkName: string): string {
  return `agt-${createHash('sha256').update(networkName).digest('hex').slice(0, 11)}`;
}

/** The Engine API `POST /networks/create` body. */
export function networkCreateBody(name: string, labels: Record<string, string>): Record<string, unknown> {
  return {
    Name: name,
    CheckDuplicate: true,
    Driver: 'bridge',
    Internal: true,
    Attachable: false,
    EnableIPv6: false,
    Labels: labels,
    Options: { 'com.docker.network.bridge.name': agentBridgeName(name) },
  };
}

interface NetworkInspect {
  Id: string;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

export async function createAgentNetwork(spec: Pick<SessionSpec, 'id'>, options: AgentNetworkOptions = {}): Promise<AgentNetwork> {
  const engine = options.engine ?? dockerEngine();
  const firewall = options.firewall ?? iptablesFirewall();
  const name = agentNetworkName(spec);
  const bridge = agentBridgeName(name);
  const labels = { ...options.labels, [managedLabel]: 'true', [sessionLabel]: spec.id };
  const firewallRules = agentFirewallRules(bridge);

  await removeSessionLeftovers(engine, firewall, spec.id, name, firewallRules);
  const created = await engine.request<{ Id: string }>('POST', '/networks/create', networkCreateBody(name, labels));
  let info: AgentNetworkInfo | undefined;
  let removed: Promise<void> | undefined;

  const remove = (): Promise<void> =>
    (removed ??= (async () => {
      const errors: unknown[] = [];
      const step = async (action: () => Promise<unknown>) => {
        try {
          await action();
        } catch (error) {
          errors.push(error);
        }
      };
      if (info && options.egress) await step(() => options.egress!.detach(info!));
      await step(() =>
        engine.request('DELETE', `/networks/${created.Id}`).catch((error: unknown) => {
          if (!isDockerStatus(error, 404)) throw error;
        }),
      );
      // Rules go last: a network that could not be removed stays closed.
      if (errors.length === 0) await step(() => firewall.remove(firewallRules));
      if (errors.length > 0) {
        throw new AgentiumError('failure', `could not remove agent network ${name}: ${errors.map(String).join('; ')}`, {
          cause: errors[0],
        });
      }
    })());

  try {
    const inspect = await engine.request<NetworkInspect>('GET', `/networks/${created.Id}`);
    const ipam = inspect.IPAM?.Config?.[0];
    info = { id: created.Id, name, bridge, subnet: ipam?.Subnet ?? '', gateway: ipam?.Gateway ?? '' };
    await firewall.apply(firewallRules);
    const egressEnv = options.egress ? (await options.egress.attach(info)).env : {};
    return { ...info, labels, firewallRules, egressEnv, remove };
  } catch (error) {
    // Apply may have failed half-way: remove whatever was inserted, then the network.
    await firewall.remove(firewallRules).catch(() => undefined);
    await remove().catch(() => undefined);
    throw error;
  }
}

/**
 * A controller restarted after a crash finds its own session's container, network and rules still
 * there (same names): remove them first, so the new run starts clean instead of failing on a name
 * conflict. Only objects carrying this session's labels are touched.
 */
async function removeSessionLeftovers(
  engine: DockerEngine,
  firewall: Firewall,
  sessionId: string,
  name: string,
  rules: FirewallRule[],
): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${managedLabel}=true`, `${sessionLabel}=${sessionId}`] }));
  const containers = await engine.request<Array<{ Id: string }>>('GET', `/containers/json?all=true&filters=${filters}`);
  for (const container of containers) {
    await engine.request('DELETE', `/containers/${container.Id}?force=true&v=true`).catch((error: unknown) => {
      if (!isDockerStatus(error, 404)) throw error;
    });
  }
  const networks = await engine.request<Array<{ Id: string; Name: string }>>('GET', `/networks?filters=${filters}`);
  for (const network of networks.filter((candidate) => candidate.Name === name)) {
    await engine.request('DELETE', `/networks/${network.Id}`).catch((error: unknown) => {
      if (!isDockerStatus(error, 404)) throw error;
    });
  }
  await firewall.remove(rules);
}
