/**
 * The agent container, described once. `run --dry-run` prints this plan and the controller's
 * Docker runtime turns the same plan into its create request, so what a reviewer reads is what
 * runs (SECURITY-CHECKLIST 15–20).
 */
import type { SessionSpec } from './spec.js';

export const workspaceMount = '/workspace';
export const promptMount = '/agentium/prompt.md';
export const agentHome = '/home/agent';

export interface AgentContainerPlan {
  image: string;
  command: string[] | undefined;
  user: string;
  workdir: string;
  privileged: false;
  readOnlyRootFilesystem: true;
  capDrop: ['ALL'];
  capAdd: [];
  securityOpt: ['no-new-privileges:true'];
  /** Scratch space: writable, but never setuid or device files. */
  tmpfs: Record<string, string>;
  limits: { cpus: number; nanoCpus: number; memoryBytes: number; memorySwapBytes: number; pids: number };
  network: { name: string; internal: true; egress: 'proxy allowlist' | 'none'; allow: string[] };
  mounts: Array<{ kind: 'workspace' | 'prompt'; target: string; readOnly: boolean }>;
  /** Plain, non-secret settings only. The agent's LLM base URL points at the proxy, which adds the key. */
  env: Record<string, string>;
  timeoutSeconds: number;
}

export function agentNetworkName(spec: Pick<SessionSpec, 'id'>): string {
  return `${spec.id}-agent`;
}

export function agentContainerPlan(spec: SessionSpec): AgentContainerPlan {
  const { limits } = spec.agent;
  return {
    image: spec.agent.image,
    command: spec.agent.command,
    user: spec.agent.user,
    workdir: workspaceMount,
    privileged: false,
    readOnlyRootFilesystem: true,
    capDrop: ['ALL'],
    capAdd: [],
    securityOpt: ['no-new-privileges:true'],
    tmpfs: {
      '/tmp': 'rw,nosuid,nodev,size=1g',
      [agentHome]: 'rw,nosuid,nodev,size=512m,uid=1000,gid=1000',
    },
    limits: {
      cpus: limits.cpus,
      nanoCpus: Math.round(limits.cpus * 1e9),
      memoryBytes: limits.memoryBytes,
      memorySwapBytes: limits.memoryBytes,
      pids: limits.pids,
    },
    network: {
      name: agentNetworkName(spec),
      internal: true,
      // What the controller enforces today: it attaches no egress gateway yet (the allowlisting
      // proxy is a later step), so the network has no way out whatever egress.allow lists.
      egress: 'none',
      allow: [...spec.egress.allow],
    },
    mounts: [
      { kind: 'workspace', target: workspaceMount, readOnly: false },
      { kind: 'prompt', target: promptMount, readOnly: true },
    ],
    env: {
      HOME: agentHome,
      AGENTIUM_PROMPT_FILE: promptMount,
      AGENTIUM_ISSUE: String(spec.issue),
      AGENTIUM_BRANCH: spec.branch,
    },
    timeoutSeconds: spec.agent.timeoutSeconds,
  };
}
