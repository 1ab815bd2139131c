/**
 * The CLI-side provider contract. Each cloud is a folder under src/providers/ and is loaded
 * lazily through `loadProvider` (src/providers/index.ts), so its SDK is imported only by a
 * command that needs it. One contract suite (test/providers/contract.test.ts) runs against every
 * provider so they cannot drift apart.
 */
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import type { SessionSpec } from '../session/spec.js';

export interface LaunchPlan {
  spec: SessionSpec;
  /** cloud-init user-data text (not encoded). */
  userData: string;
}

export interface LaunchedSession {
  sessionId: string;
  /** Instance name (GCP) or id (AWS). */
  instance: string;
  /** Zone (GCP) or region/availability zone (AWS) where it landed. */
  location: string;
  spot: boolean;
}

export interface SessionStatus {
  sessionId: string;
  instance: string;
  location: string;
  /** The cloud's own state: PROVISIONING/RUNNING/… or pending/running/…, lower-cased. */
  state: string;
  /** The phase the controller reported (guest attributes / tags), when known. */
  phase: string | undefined;
  repo: string | undefined;
  issue: number | undefined;
  deadline: string | undefined;
}

/** A zone (GCP) or region (AWS) that could not be listed: its sessions are missing from a list. */
export interface UnreachableLocation {
  location: string;
  reason: string;
}

/**
 * What `list` saw. `unreachable` is part of the result, not a side note: a caller that decides
 * something from the list (the one-live-session-per-issue check) must know what it did not see.
 */
export interface SessionList {
  sessions: SessionStatus[];
  unreachable: UnreachableLocation[];
}

export interface DestroyResult {
  sessionId: string;
  instance: string;
  location: string;
  outcome: 'deleted' | 'already-gone' | 'failed';
  error?: string;
}

export interface ProviderOptions {
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface CloudProvider {
  readonly name: ProviderName;
  /** Create the instance (idempotent per session id); a failure or an abort leaves nothing behind. */
  launch(plan: LaunchPlan, options?: ProviderOptions): Promise<LaunchedSession>;
  /** Managed sessions only (by label/tag), across every configured zone/region, and the ones it could not reach. */
  list(options?: ProviderOptions): Promise<SessionList>;
  /** Delete the given sessions, or every managed one with 'all'. Already gone = success. */
  destroy(target: string[] | 'all', options?: ProviderOptions & { concurrency?: number }): Promise<DestroyResult[]>;
}

export type ProviderFactory = (config: AgentiumConfig) => Promise<CloudProvider>;
