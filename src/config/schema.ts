/**
 * The one configuration schema, written once. `agentium.schema.json` is generated from it
 * (`npm run schema`) and a test fails when the committed file drifts. Every object is strict:
 * an unknown key is an error (fail closed). Key names listed in DESIGN §3 are a stable interface.
 */
import { z } from 'zod';
import { durationSyntax } from './duration.js';

const repoPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const duration = z.string().regex(new RegExp(durationSyntax), 'must be a duration like 90m, 2h or 1h30m');
const byteSize = z.string().regex(/^\d+[kmgKMG]?$/, 'must be a size like 4g or 512m');
/** Secret *references* (a Secret Manager name, a Secrets Manager name or ARN): never values. */
const secretReference = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9/_:.+=@-]+$/, 'must be the name or ARN of a secret, not a secret value');
const hostname = z.string().regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, 'must be a host name such as api.anthropic.com');

/** A container image pinned by version tag or digest: `latest` and untagged images drift. */
export const pinnedImage = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._/:-]*?(?::(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/,
    'must be pinned by a version tag or @sha256 digest (not :latest, not untagged)',
  );

export const providerNames = ['gcp', 'aws', 'local'] as const;
export type ProviderName = (typeof providerNames)[number];

const github = z
  .strictObject({
    appId: z.union([z.number().int().positive(), z.string().regex(/^(\d+|Iv[0-9A-Za-z.]+)$/)]).describe(
      'GitHub App id (or client id) used as the JWT issuer.',
    ),
    installationId: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Installation id; looked up from the repository when omitted.'),
    privateKeySecret: secretReference.describe(
      "Name (GCP) or name/ARN (AWS) of the secret holding the App's private key. Never the key itself.",
    ),
    apiUrl: z.url().default('https://api.github.com').describe('REST API base URL; set it for GitHub Enterprise Server.'),
  })
  .describe('GitHub App identity. The VM mints a down-scoped installation token from it.');

const gcp = z
  .strictObject({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id').describe('GCP project id.'),
    zones: z
      .array(z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a zone such as us-central1-a'))
      .min(1)
      .default(['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'])
      .describe('Zones tried in order when one has no capacity. Also the zones `status` and `destroy` search.'),
    machineType: z.string().default('e2-standard-4').describe('Machine type.'),
    serviceAccount: z
      .email()
      .refine((email) => !email.endsWith('-compute@developer.gserviceaccount.com'), {
        message: 'must be a dedicated service account, not the default compute service account',
      })
      .optional()
      .describe('Dedicated VM service account. Default: agentium-vm@<project>.iam.gserviceaccount.com (never the default compute SA).'),
    network: z.string().default('global/networks/default').describe('VPC network (used when no subnetwork is given).'),
    subnetwork: z.string().optional().describe('Subnetwork, e.g. regions/us-central1/subnetworks/agentium.'),
    externalIp: z.boolean().default(false).describe('Give the VM an external IP. Default false: egress via Cloud NAT.'),
    image: z
      .string()
      .default('projects/cos-cloud/global/images/family/cos-stable')
      .describe('Boot image (needs Docker and cloud-init, e.g. Container-Optimized OS).'),
    diskSizeGb: z.number().int().min(10).max(2000).default(20).describe('Boot disk size in GB.'),
    apiEndpoint: z.url().optional().describe('Compute API endpoint (private endpoints; tests point it at a local fake).'),
  })
  .describe('Google Cloud settings (provider: gcp).');

const aws = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1').describe('AWS region.'),
    subnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id'))
      .default([])
      .describe('Subnets tried in order on capacity errors (one per availability zone). Empty: the default VPC.'),
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]+$/, 'must be a security group id'))
      .default([])
      .describe('Security groups (with no ingress rules). Empty: the VPC default group.'),
    instanceProfile: z.string().default('agentium-vm').describe('Instance profile name (created by terraform/aws).'),
    instanceType: z.string().default('m7i.large').describe('Instance type.'),
    ami: z
      .string()
      .regex(/^(ami-[0-9a-f]+|resolve:ssm:\/.+)$/, 'must be an AMI id or resolve:ssm:<parameter>')
      .default('resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id')
      .describe("AMI id, or resolve:ssm:<parameter>. Default: AWS's public parameter for the ECS-optimized Amazon Linux 2023 AMI."),
    volumeSizeGb: z.number().int().min(30).max(2000).default(30).describe('Root volume size in GB (encrypted).'),
    endpoint: z.url().optional().describe('EC2 endpoint (private endpoints; tests point it at a local fake).'),
  })
  .describe('AWS settings (provider: aws).');

const agent = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/).default('claude-code').describe('Agent name, shown in status and PR text.'),
    image: pinnedImage
      .default('ghcr.io/agentium/agent-claude-code:0.1.0')
      .describe('Agent container image, pinned by version or digest.'),
    command: z.array(z.string()).min(1).optional().describe('Command run in the agent image (default: the image entrypoint).'),
    llmKeySecret: secretReference.optional().describe('Secret holding the LLM API key; injected by the egress proxy, never given to the agent.'),
    timeout: duration.default('90m').describe('The agent is killed after this long; the session still reports and cleans up.'),
    cpus: z.number().positive().max(64).default(2).describe('CPU limit of the agent container.'),
    memory: byteSize.default('4g').describe('Memory limit (swap is set equal: no extra swap).'),
    pids: z.number().int().min(16).max(65_536).default(512).describe('Process limit (a fork bomb hits it).'),
  })
  .describe('The coding agent and its container limits.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors.'),
    provider: z.enum(providerNames).default('local').describe('Where sessions run.'),
    repo: z.string().regex(repoPattern, 'must be owner/name').optional().describe('Repository the agent works on (owner/name).'),
    github: github.optional(),
    gcp: gcp.optional(),
    aws: aws.optional(),
    agent: agent.default(agent.parse({})),
    session: z
      .strictObject({
        lifetime: duration.default('2h').describe('Hard cap on the VM: the watchdog and the cloud both enforce it.'),
        spot: z.boolean().default(true).describe('Use spot capacity.'),
        onDemandFallback: z.boolean().default(false).describe('Retry on demand when no zone has spot capacity.'),
      })
      .default({ lifetime: '2h', spot: true, onDemandFallback: false })
      .describe('Session lifetime and pricing.'),
    controller: z
      .strictObject({
        image: pinnedImage
          .default('ghcr.io/agentium/controller:0.1.0')
          .describe('Controller image started by cloud-init, pinned by version or digest.'),
      })
      .default({ image: 'ghcr.io/agentium/controller:0.1.0' })
      .describe('The on-VM controller.'),
    egress: z
      .strictObject({
        allow: z.array(hostname).default(['api.anthropic.com']).describe('Hosts the agent may reach through the proxy (port 443 only).'),
      })
      .default({ allow: ['api.anthropic.com'] })
      .describe('Agent network egress allowlist.'),
    policy: z
      .strictObject({
        maxDiffBytes: z.number().int().positive().default(1_048_576).describe('Largest diff the controller will push.'),
        maxChangedFiles: z.number().int().positive().default(200).describe('Most files one PR may change.'),
      })
      .default({ maxDiffBytes: 1_048_576, maxChangedFiles: 200 })
      .describe('Policy gate applied before anything is pushed.'),
  })
  .describe('Agentium configuration (.agentium.yaml).');

export type AgentiumConfig = z.output<typeof configSchema>;
export type AgentiumConfigInput = z.input<typeof configSchema>;
