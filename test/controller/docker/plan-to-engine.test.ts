/**
 * The runtime without Docker: plan → Engine API body, the firewall rules, the attach-stream
 * demuxer, and the Engine API client against a socket server of our own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentContainerPlan } from '../../../src/session/container.js';
import type { AgentContainerPlan } from '../../../src/session/container.js';
import type { SessionSpec } from '../../../src/session/spec.js';
import { agentOwner, containerCreateBody } from '../../../controller/docker/agent-container.js';
import { DockerApiError, dockerEngine } from '../../../controller/docker/engine.js';
import { agentFirewallRules, blockedRanges, firewallComment } from '../../../controller/docker/firewall.js';
import { agentBridgeName, networkCreateBody } from '../../../controller/docker/network.js';
import { createFrameDemuxer } from '../../../controller/docker/output.js';
import type { AgentStream } from '../../../controller/docker/output.js';

const spec = {
  id: 'agentium-5-abcd1234',
  issue: 5,
  branch: 'agentium/issue-5',
  agent: {
    image: 'ghcr.io/agentium/agent:1.0.0',
    command: undefined,
    user: '1000:1000',
    timeoutSeconds: 5400,
    limits: { cpus: 1.5, memoryBytes: 2 * 1024 ** 3, pids: 256 },
  },
  egress: { allow: ['api.anthropic.com'] },
} as unknown as SessionSpec;

const plan: AgentContainerPlan = agentContainerPlan(spec);
const sources = { workspaceDir: '/srv/session/workspace', promptFile: '/srv/session/prompt.md' };
const network = { name: plan.network.name, labels: { 'agentium-managed': 'true' }, egressEnv: {} };

describe('containerCreateBody', () => {
  const body = containerCreateBody(plan, sources, network) as {
    Env: string[];
    User: string;
    HostConfig: Record<string, unknown>;
    Cmd?: string[];
  };

  it('carries every security setting of the plan, unchanged', () => {
    expect(body.User).toBe('1000:1000');
    expect(body.HostConfig).toMatchObject({
      Privileged: false,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      Tmpfs: plan.tmpfs,
      NanoCpus: 1_500_000_000,
      Memory: 2 * 1024 ** 3,
      MemorySwap: 2 * 1024 ** 3,
      PidsLimit: 256,
      NetworkMode: 'agentium-5-abcd1234-agent',
    });
    expect(body.Cmd).toBeUndefined();
  });

  it("runs agent.command instead of the image's entrypoint, or the image's own when unset", () => {
    expect(body).not.toHaveProperty('Entrypoint');
    const withCommand = containerCreateBody({ ...plan, command: ['/bin/agent', '--yes'] }, sources, network);
    expect(withCommand).toMatchObject({ Entrypoint: ['/bin/agent', '--yes'], Cmd: [] });
  });

  it('mounts exactly the workspace (rw) and the prompt (ro), with Mounts, never Binds', () => {
    expect(body.HostConfig.Binds).toBeUndefined();
    expect(body.HostConfig.Mounts).toEqual([
      { Type: 'bind', Source: sources.workspaceDir, Target: '/workspace', ReadOnly: false },
      { Type: 'bind', Source: sources.promptFile, Target: '/agentium/prompt.md', ReadOnly: true },
    ]);
  });

  it('sets the plan env plus what the egress gateway adds, and refuses an override', () => {
    const withProxy = containerCreateBody(plan, sources, { ...network, egressEnv: { HTTPS_PROXY: 'http://10.9.0.2:3128' } }) as { Env: string[] };
    expect(withProxy.Env).toContain('HTTPS_PROXY=http://10.9.0.2:3128');
    expect(withProxy.Env).toContain('AGENTIUM_BRANCH=agentium/issue-5');
    expect(() => containerCreateBody(plan, sources, { ...network, egressEnv: { HOME: '/root' } })).toThrow(/override/);
  });

  it("refuses relative mount sources and a network that is not the plan's", () => {
    expect(() => containerCreateBody(plan, { ...sources, workspaceDir: 'workspace' }, network)).toThrow(/absolute/);
    expect(() => containerCreateBody(plan, sources, { ...network, name: 'bridge' })).toThrow(/not the plan's network/);
  });

  it('agentOwner reads the numeric non-root user of the plan', () => {
    expect(agentOwner(plan)).toEqual({ uid: 1000, gid: 1000 });
    expect(() => agentOwner({ user: '0:0' })).toThrow();
    expect(() => agentOwner({ user: 'agent' })).toThrow();
  });
});

describe('agent network', () => {
  it('is internal, IPv4 only, on a bridge interface name that fits Linux (15 bytes)', () => {
    const bridge = agentBridgeName(plan.network.name);
    expect(bridge).toMatch(/^agt-[0-9a-f]{11}$/);
    expect(networkCreateBody(plan.network.name, {})).toMatchObject({
      Internal: true,
      EnableIPv6: false,
      Driver: 'bridge',
      Options: { 'com.docker.network.bridge.name': bridge },
    });
  });

  it('firewall: host closed, same-network traffic handed to Docker, link-local and private ranges rejected, then everything', () => {
    const rules = agentFirewallRules('agt-0123456789a');
    const tag = ['-m', 'comment', '--comment', firewallComment('agt-0123456789a')];
    const reject = ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'];
    expect(rules).toEqual([
      { chain: 'INPUT', spec: ['-i', 'agt-0123456789a', ...tag, ...reject] },
      { chain: 'DOCKER-USER', spec: ['-i', 'agt-0123456789a', '-o', 'agt-0123456789a', ...tag, '-j', 'RETURN'] },
      ...['169.254.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].map((range) => ({
        chain: 'DOCKER-USER',
        spec: ['-i', 'agt-0123456789a', '-d', range, ...tag, ...reject],
      })),
      { chain: 'DOCKER-USER', spec: ['-i', 'agt-0123456789a', ...tag, ...reject] },
      { chain: 'DOCKER-USER', spec: ['-o', 'agt-0123456789a', ...tag, ...reject] },
    ]);
    expect(blockedRanges).toContain('169.254.0.0/16');
  });
});

describe('createFrameDemuxer', () => {
  const frame = (type: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = type;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  const stream = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'out two\n')]);

  it('splits stdout and stderr whatever the read boundaries', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      for (const second of [cut, Math.min(stream.length, cut + 3)]) {
        const seen: Record<AgentStream, string> = { stdout: '', stderr: '' };
        const demux = createFrameDemuxer((name, payload) => (seen[name] += payload.toString()));
        demux(stream.subarray(0, cut));
        demux(stream.subarray(cut, second));
        demux(stream.subarray(second));
        expect(seen).toEqual({ stdout: 'out one\nout two\n', stderr: 'err\n' });
      }
    }
  });
});

describe('dockerEngine over a unix socket', () => {
  it('parses JSON, line-delimited progress JSON and plain text, and maps errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentium-engine-'));
    const socketPath = join(dir, 'docker.sock');
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      response.setHeader('Api-Version', '1.45');
      if (request.url === '/_ping') return response.end('OK');
      if (request.url === '/v1.45/images/create?fromImage=x%3A1') {
        response.setHeader('Content-Type', 'application/json');
        return response.end('{"status":"Pulling"}\r\n{"error":"denied","errorDetail":{"message":"denied"}}\r\n');
      }
      if (request.url === '/v1.45/containers/nope/json') {
        response.statusCode = 404;
        response.setHeader('Content-Type', 'application/json');
        return response.end('{"message":"No such container: nope"}');
      }
      response.setHeader('Content-Type', 'application/json');
      response.end('{"Id":"abc"}');
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const engine = dockerEngine(socketPath);
      expect(await engine.request('GET', '/version')).toEqual({ Id: 'abc' });
      expect(await engine.request('POST', '/images/create?fromImage=x%3A1')).toEqual([
        { status: 'Pulling' },
        { error: 'denied', errorDetail: { message: 'denied' } },
      ]);
      const error = await engine.request('GET', '/containers/nope/json').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DockerApiError);
      expect(error).toMatchObject({ status: 404, kind: 'not_found', message: 'docker GET /containers/nope/json: 404 No such container: nope' });
      // The API version is asked once, then every path is addressed at it.
      expect(seen.filter((line) => line === 'GET /_ping')).toHaveLength(1);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
