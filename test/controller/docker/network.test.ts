/**
 * SECURITY-CHECKLIST 21–22 without sending a packet anywhere but our own servers (DESIGN §5): from
 * the agent container, a server on the host's bridge gateway address, a server on the host's
 * address in another network, and a server container in another network are all unreachable; the
 * proxy's place (a container on the agent network, attached through the egress seam) is reachable.
 * The firewall rules are present while the session runs and gone afterwards.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNetwork,
  dockerAvailable,
  engine,
  heldMarker,
  heldScript,
  networkExists,
  runCollected,
  startServerContainer,
  sweepTestLeftovers,
  testSession,
  testWorkspace,
} from './harness.js';
import type { CollectedRun, TestSession, TestWorkspace } from './harness.js';
import { scriptPrompt, testLabel } from '../../fakes/agent-image/build.js';
import { createAgentNetwork } from '../../../controller/docker/network.js';
import type { AgentNetwork, EgressGateway } from '../../../controller/docker/network.js';
import { blockedRanges, firewallRulePresent, listChain } from '../../../controller/docker/firewall.js';
import type { Firewall } from '../../../controller/docker/firewall.js';

const available = await dockerAvailable();

function listen(host: string): Promise<Server> {
  const server = createServer((_request, response) => response.end('host server\n'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;
const reach = (output: string, target: string) => new RegExp(`^reach ${target.replace(/\./g, '\\.')}=(\\w+)`, 'm').exec(output)?.[1];

/** A stand-in for the egress proxy: a server container joining the agent network through the seam. */
function stubProxy(sessionId: string): EgressGateway & { address?: string } {
  let server: Awaited<ReturnType<typeof startServerContainer>> | undefined;
  const gateway: EgressGateway & { address?: string } = {
    async attach(network) {
      server = await startServerContainer(sessionId, network.name, 'egress-proxy');
      gateway.address = `${server.ip}:8080`;
      return { env: { HTTPS_PROXY: `http://${server.ip}:8080`, NO_PROXY: '' } };
    },
    async detach() {
      await server?.remove();
    },
  };
  return gateway;
}

describe.skipIf(!available)('agent network (checklist 21–22)', () => {
  let session: TestSession;
  let workspace: TestWorkspace;
  let run: CollectedRun;
  let network: AgentNetwork;
  let proxy: ReturnType<typeof stubProxy>;
  const servers: Server[] = [];
  const targets: Record<string, string> = {};
  const rulesWhileRunning = { present: [] as boolean[], input: [] as string[], dockerUser: [] as string[] };

  beforeAll(async () => {
    session = await testSession();
    proxy = stubProxy(session.spec.id);
    network = await createAgentNetwork(session.spec, { labels: testLabel, egress: proxy });

    const other = await createTestNetwork(session.spec.id, `${session.spec.id}-other`);
    const otherServer = await startServerContainer(session.spec.id, `${session.spec.id}-other`, 'other-server');
    const agentGatewayServer = await listen(network.gateway);
    const otherGatewayServer = await listen(other.gateway);
    servers.push(agentGatewayServer, otherGatewayServer);
    targets.agentGateway = `${network.gateway}:${portOf(agentGatewayServer)}`;
    targets.otherGateway = `${other.gateway}:${portOf(otherGatewayServer)}`;
    targets.otherContainer = `${otherServer.ip}:8080`;
    targets.proxy = proxy.address ?? '';

    workspace = testWorkspace(
      session.plan,
      scriptPrompt(heldScript(`sh /agent/scenarios/net-probe.sh ${Object.values(targets).join(' ')}\necho "proxy_env=$HTTPS_PROXY"`)),
    );
    run = await runCollected(session, workspace, {
      network,
      onMarker: {
        marker: heldMarker,
        action: async (live) => {
          for (const rule of live.firewallRules) rulesWhileRunning.present.push(await firewallRulePresent(rule));
          rulesWhileRunning.input = await listChain('INPUT');
          rulesWhileRunning.dockerUser = await listChain('DOCKER-USER');
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) server.close();
    workspace?.cleanup();
    // The "other" network and its server container are this test's own; the agent's must be gone already.
    const leftovers = await sweepTestLeftovers();
    expect(leftovers.networks).toBe(1);
    expect(leftovers.containers).toBe(1);
  });

  it('the agent reaches the proxy on its own network (the seam works, the probe can connect)', () => {
    expect(run.result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(reach(run.stdout, targets.proxy!)).toBe('ok');
    expect(run.stdout).toContain(`proxy_env=http://${targets.proxy}`);
  });

  it("cannot reach a server on the host's bridge gateway address of its own network", () => {
    expect(reach(run.stdout, targets.agentGateway!)).toBe('refused');
  });

  it("cannot reach a server on the host's address in another network", () => {
    expect(reach(run.stdout, targets.otherGateway!)).toBe('refused');
  });

  it('cannot reach a server container on another Docker network', () => {
    expect(reach(run.stdout, targets.otherContainer!)).not.toBe('ok');
    expect(reach(run.stdout, targets.otherContainer!)).toBeDefined();
  });

  it('while the session runs, every rule is in place, ahead of Docker’s own', () => {
    expect(rulesWhileRunning.present).toEqual(network.firewallRules.map(() => true));
    // Other sessions' rules may sit beside ours (test files run in parallel): look for our own.
    const ours = (line: string) => line.includes(`-i ${network.bridge}`);
    expect(rulesWhileRunning.input.filter(ours)).toEqual([
      `-A INPUT -i ${network.bridge} -m comment --comment "agentium:${network.bridge}" -j REJECT --reject-with icmp-port-unreachable`,
    ]);
    for (const range of blockedRanges) {
      expect(rulesWhileRunning.dockerUser.some((line) => ours(line) && line.includes(`-d ${range}`) && line.includes('-j REJECT'))).toBe(true);
    }
    // DOCKER-USER ends in Docker's RETURN; ours must all come before it.
    const returnAt = rulesWhileRunning.dockerUser.indexOf('-A DOCKER-USER -j RETURN');
    expect(returnAt).toBe(rulesWhileRunning.dockerUser.length - 1);
  });

  it('afterwards the rules, the container, the proxy and the network are gone', async () => {
    for (const rule of network.firewallRules) expect(await firewallRulePresent(rule)).toBe(false);
    expect((await listChain('INPUT')).join('\n')).not.toContain(network.bridge);
    expect((await listChain('DOCKER-USER')).join('\n')).not.toContain(network.bridge);
    expect(await networkExists(network.name)).toBe(false);
    const filters = encodeURIComponent(JSON.stringify({ network: [network.name] }));
    expect(await engine.request('GET', `/containers/json?all=true&filters=${filters}`)).toEqual([]);
  });
});

describe.skipIf(!available)('control: without the firewall rules', () => {
  let workspace: TestWorkspace;
  let server: Server | undefined;
  afterAll(async () => {
    server?.close();
    workspace?.cleanup();
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('the host gateway answers — so the refusals above are the rules’ doing, not a dead server', async () => {
    const session = await testSession();
    const noFirewall: Firewall = { apply: async () => undefined, remove: async () => undefined };
    const network = await createAgentNetwork(session.spec, { labels: testLabel, firewall: noFirewall });
    server = await listen(network.gateway);
    const target = `${network.gateway}:${portOf(server)}`;
    workspace = testWorkspace(session.plan, scriptPrompt(`sh /agent/scenarios/net-probe.sh ${target}`));
    const run = await runCollected(session, workspace, { network });
    expect(reach(run.stdout, target)).toBe('ok');
  });
});
