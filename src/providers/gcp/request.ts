/**
 * The argument of `InstancesClient.insert()`, built by one pure function. `run --dry-run` prints
 * it as `request`; the GCP provider sends exactly this. SECURITY-CHECKLIST 24–28.
 */
import type { AgentiumConfig } from '../../config/schema.js';
import { gcpLabels } from '../../labels.js';
import { deadlineSeconds, type SessionSpec } from '../../session/spec.js';

export type GcpConfig = NonNullable<AgentiumConfig['gcp']>;

export interface GcpInsertOptions {
  zone: string;
  spot: boolean;
  userData: string;
  /** Idempotency key: a retried insert with the same id creates nothing new. */
  requestId: string;
}

/** The dedicated VM identity created by terraform/gcp; never the default compute service account. */
export function gcpServiceAccount(gcp: GcpConfig): string {
  return gcp.serviceAccount ?? `agentium-vm@${gcp.project}.iam.gserviceaccount.com`;
}

/** Network tag that the one-time firewall rules (terraform/gcp) attach to. */
export const gcpNetworkTag = 'agentium';

export function buildGcpInsertRequest(spec: SessionSpec, gcp: GcpConfig, options: GcpInsertOptions) {
  const { zone } = options;
  const labels = gcpLabels({ id: spec.id, repo: spec.repo.fullName, issue: spec.issue, deadline: deadlineSeconds(spec) });
  return {
    project: gcp.project,
    zone,
    requestId: options.requestId,
    instanceResource: {
      name: spec.id,
      description: `Agentium session for ${spec.repo.fullName}#${spec.issue}`,
      machineType: `zones/${zone}/machineTypes/${gcp.machineType}`,
      labels,
      tags: { items: [gcpNetworkTag] },
      metadata: {
        items: [
          { key: 'user-data', value: options.userData },
          { key: 'block-project-ssh-keys', value: 'TRUE' },
          { key: 'enable-oslogin', value: 'TRUE' },
          { key: 'serial-port-enable', value: 'FALSE' },
          // The controller reports its phase as guest attributes (no IAM role needed).
          { key: 'enable-guest-attributes', value: 'TRUE' },
        ],
      },
      scheduling: {
        provisioningModel: options.spot ? 'SPOT' : 'STANDARD',
        instanceTerminationAction: 'DELETE',
        maxRunDuration: { seconds: spec.lifetimeSeconds },
        automaticRestart: false,
        onHostMaintenance: 'TERMINATE',
      },
      shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      disks: [
        {
          boot: true,
          autoDelete: true,
          type: 'PERSISTENT',
          initializeParams: {
            sourceImage: gcp.image,
            diskSizeGb: gcp.diskSizeGb,
            diskType: `zones/${zone}/diskTypes/pd-balanced`,
            labels,
          },
        },
      ],
      networkInterfaces: [
        {
          ...(gcp.subnetwork ? { subnetwork: gcp.subnetwork } : { network: gcp.network }),
          // No accessConfigs = no external IP; egress goes through Cloud NAT (docs/providers/gcp.md).
          ...(gcp.externalIp ? { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] } : {}),
        },
      ],
      serviceAccounts: [{ email: gcpServiceAccount(gcp), scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
    },
  };
}

export type GcpInsertRequest = ReturnType<typeof buildGcpInsertRequest>;
