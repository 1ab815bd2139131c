/**
 * Config + flags → everything `run` would do: the session spec, the user-data, the cloud request
 * and the agent container. Pure given `now` and `nonce`; `run --dry-run` prints exactly this.
 */
import { createHash } from 'node:crypto';
import { renderUserData } from '../../cloud-init/render.js';
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import { buildRunInstancesInput } from '../providers/aws/request.js';
import { buildGcpInsertRequest } from '../providers/gcp/request.js';
import { agentContainerPlan, type AgentContainerPlan } from './container.js';
import { buildSessionSpec, type SessionSpec } from './spec.js';

export interface SessionPlan {
  session: SessionSpec;
  provider: ProviderName;
  /** Exactly the `InstancesClient.insert()` argument (gcp) or `RunInstancesCommand` input (aws); null for local. */
  request: ReturnType<typeof buildGcpInsertRequest> | ReturnType<typeof buildRunInstancesInput> | null;
  userData: string;
  githubToken: Pick<SessionSpec['github'], 'repositories' | 'permissions'>;
  container: AgentContainerPlan;
}

/** Idempotency key for the cloud's create call: the same session retried creates one VM. */
export function idempotencyKey(spec: SessionSpec, attempt = 0): string {
  return attempt === 0 ? spec.id : `${spec.id}-${attempt}`;
}

export function planSession(
  config: AgentiumConfig,
  inputs: { provider: ProviderName; issue: number; now: Date; nonce: string },
): SessionPlan {
  const session = buildSessionSpec(config, inputs);
  const userData = renderUserData(session);
  const spot = config.session.spot;
  let request: SessionPlan['request'] = null;
  if (inputs.provider === 'gcp' && config.gcp) {
    request = buildGcpInsertRequest(session, config.gcp, {
      zone: config.gcp.zones[0] ?? '',
      spot,
      userData,
      requestId: gcpRequestId(session),
    });
  } else if (inputs.provider === 'aws' && config.aws) {
    request = buildRunInstancesInput(session, config.aws, {
      subnetId: config.aws.subnetIds[0],
      spot,
      userData,
      clientToken: idempotencyKey(session),
    });
  }
  return {
    session,
    provider: inputs.provider,
    request,
    userData,
    githubToken: { repositories: session.github.repositories, permissions: session.github.permissions },
    container: agentContainerPlan(session),
  };
}

/**
 * GCP wants a UUID as requestId; derive one from the session id (and attempt) so a retry of the
 * same insert is deduplicated by the API instead of creating a second VM.
 */
export function gcpRequestId(spec: SessionSpec, attempt = 0): string {
  const hex = createHash('sha256').update(idempotencyKey(spec, attempt)).digest('hex');
  const variant = (0x8 | (Number.parseInt(hex[16] ?? '0', 16) & 0x3)).toString(16);
  // Version 8 ("custom") UUID layout.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
