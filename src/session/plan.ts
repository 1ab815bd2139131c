/**
 * Config + flags → everything `run` would do: the session spec, the user-data, the cloud request
 * and the agent container. Pure given `now` and `nonce`; `run --dry-run` prints exactly this.
 */
import { renderUserData } from '../../cloud-init/render.js';
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import { buildRunInstancesInput, clientTokenFor } from '../providers/aws/request.js';
import { buildGcpInsertRequest } from '../providers/gcp/request.js';
import { insertRequestId } from '../providers/gcp/request-id.js';
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
      requestId: insertRequestId(config.gcp.project, session.id, config.gcp.zones[0] ?? '', spot),
    });
  } else if (inputs.provider === 'aws' && config.aws) {
    request = buildRunInstancesInput(session, config.aws, {
      subnetId: config.aws.subnetIds[0],
      spot,
      userData,
      clientToken: clientTokenFor(session.id, config.aws.subnetIds[0], spot),
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
