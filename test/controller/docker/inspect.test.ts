/**
 * SECURITY-CHECKLIST 15–19, read back from the engine: `docker inspect` of the running agent
 * container and its network must show exactly the plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dockerAvailable,
  engine,
  heldMarker,
  heldScript,
  inspectContainer,
  runCollected,
  sweepTestLeftovers,
  testSession,
  testWorkspace,
} from './harness.js';
import type { TestSession, TestWorkspace } from './harness.js';
import { scriptPrompt } from '../../fakes/agent-image/build.js';
import { agentBridgeName } from '../../../controller/docker/network.js';

interface HostConfig {
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  CapDrop: string[] | null;
  CapAdd: string[] | null;
  SecurityOpt: string[] | null;
  NetworkMode: string;
  PidMode: string;
  IpcMode: string;
  UsernsMode: string;
  UTSMode: string;
  Tmpfs: Record<string, string>;
  PidsLimit: number;
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  Binds: string[] | null;
  Devices: unknown[] | null;
  LogConfig: { Type: string };
}

interface Inspect {
  Config: { User: string; Env: string[]; Image: string; WorkingDir: string };
  HostConfig: HostConfig;
  Mounts: Array<{ Type: string; Source: string; Destination: string; RW: boolean }>;
  NetworkSettings: { Networks: Record<string, unknown> };
}

const available = await dockerAvailable();

describe.skipIf(!available)('agent container as Docker sees it (checklist 15–19)', () => {
  let session: TestSession;
  let workspace: TestWorkspace;
  let inspect: Inspect | undefined;
  let networkInspect: { Internal: boolean; Driver: string; Options: Record<string, string>; EnableIPv6: boolean } | undefined;

  beforeAll(async () => {
    session = await testSession({ pids: 128, memory: '256m', cpus: 0.5 });
    workspace = testWorkspace(session.plan, scriptPrompt(heldScript()));
    await runCollected(session, workspace, {
      onMarker: {
        marker: heldMarker,
        action: async (network) => {
          inspect = (await inspectContainer(network.name)) as unknown as Inspect;
          networkInspect = await engine.request('GET', `/networks/${network.id}`);
        },
      },
    });
  });

  afterAll(async () => {
    workspace?.cleanup();
    expect(await sweepTestLeftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('inspected the container while it ran', () => {
    expect(inspect).toBeDefined();
  });

  it('15: runs as a non-root user with every capability dropped and no-new-privileges', () => {
    expect(inspect!.Config.User).toBe(session.plan.user);
    expect(inspect!.Config.User).not.toMatch(/^(0|root)(:|$)/);
    expect(inspect!.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspect!.HostConfig.CapAdd ?? []).toEqual([]);
    expect(inspect!.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
  });

  it('16: keeps the default seccomp profile, is not privileged, shares no host namespace', () => {
    const securityOpt = inspect!.HostConfig.SecurityOpt ?? [];
    expect(securityOpt.some((option) => option.startsWith('seccomp'))).toBe(false);
    expect(securityOpt.some((option) => /apparmor[=:]unconfined|label[=:]disable/.test(option))).toBe(false);
    expect(inspect!.HostConfig.Privileged).toBe(false);
    expect(inspect!.HostConfig.Devices ?? []).toEqual([]);
    expect(inspect!.HostConfig.NetworkMode).toBe(session.plan.network.name);
    expect(Object.keys(inspect!.NetworkSettings.Networks)).toEqual([session.plan.network.name]);
    for (const mode of [inspect!.HostConfig.PidMode, inspect!.HostConfig.IpcMode, inspect!.HostConfig.UsernsMode, inspect!.HostConfig.UTSMode]) {
      expect(mode).not.toBe('host');
    }
    expect(inspect!.HostConfig.IpcMode).not.toMatch(/^container:/);
    expect(inspect!.HostConfig.PidMode).not.toMatch(/^container:/);
  });

  it('16: the network is an internal bridge on our own interface name, without IPv6', () => {
    expect(networkInspect).toMatchObject({ Internal: true, Driver: 'bridge', EnableIPv6: false });
    expect(networkInspect!.Options['com.docker.network.bridge.name']).toBe(agentBridgeName(session.plan.network.name));
  });

  it('17: read-only root filesystem; every tmpfs is nosuid', () => {
    expect(inspect!.HostConfig.ReadonlyRootfs).toBe(true);
    const tmpfs = inspect!.HostConfig.Tmpfs;
    expect(Object.keys(tmpfs).sort()).toEqual(['/home/agent', '/tmp']);
    for (const options of Object.values(tmpfs)) expect(options.split(',')).toContain('nosuid');
  });

  it('18: pids, memory (= swap) and cpu are limited', () => {
    const host = inspect!.HostConfig;
    expect(host.PidsLimit).toBe(128);
    expect(host.Memory).toBe(256 * 1024 ** 2);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(500_000_000);
  });

  it('19: only the workspace (rw) and the prompt file (ro) are mounted; no docker socket', () => {
    const mounts = inspect!.Mounts.map(({ Type, Source, Destination, RW }) => ({ Type, Source, Destination, RW }));
    expect(mounts.sort((a, b) => a.Destination.localeCompare(b.Destination))).toEqual([
      { Type: 'bind', Source: workspace.promptFile, Destination: '/agentium/prompt.md', RW: false },
      { Type: 'bind', Source: workspace.workspaceDir, Destination: '/workspace', RW: true },
    ]);
    expect(inspect!.HostConfig.Binds ?? []).toEqual([]);
    expect(JSON.stringify(inspect)).not.toContain('docker.sock');
  });

  it('20: the environment is exactly the plan env (nothing secret), and output is never logged to disk', () => {
    const planEnv = Object.entries(session.plan.env).map(([key, value]) => `${key}=${value}`);
    // The image adds PATH; everything else is the plan's.
    expect(inspect!.Config.Env.filter((entry) => !entry.startsWith('PATH=')).sort()).toEqual(planEnv.sort());
    expect(inspect!.HostConfig.LogConfig.Type).toBe('none');
  });
});
