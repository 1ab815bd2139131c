/**
 * The one configuration schema, written once (valibot: a single small module, so loading it keeps
 * `run --dry-run` inside its start-up budget). `agentium.schema.json` and the key table in
 * docs/configuration.md are generated from it (`npm run schema`) and a test fails when either
 * drifts. Every object is strict: an unknown key is an error (fail closed). Key names listed in
 * DESIGN §3 are a stable interface.
 */
import * as v from 'valibot';
import { durationSyntax } from './duration.js';

const repoPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const duration = v.pipe(v.string(), v.regex(new RegExp(durationSyntax), 'must be a duration like 90m, 2h or 1h30m'));
const byteSize = v.pipe(v.string(), v.regex(/^\d+[kmgKMG]?$/, 'must be a size like 4g or 512m'));
const url = v.pipe(v.string(), v.url('must be a URL'));
/** Secret *references* (a Secret Manager name, a Secrets Manager name or ARN): never values. */
const secretReference = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9/_:.+=@-]+$/, 'must be the name or ARN of a secret, not a secret value'),
  v.maxLength(512, 'must be the name or ARN of a secret, not a secret value'),
);
const hostname = v.pipe(v.string(), v.regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, 'must be a host name such as api.anthropic.com'));

/** A container image pinned by version tag or digest: `latest` and untagged images drift. */
export const pinnedImage = v.pipe(
  v.string(),
  v.regex(
    /^[a-z0-9][a-z0-9._/:-]*?(?::(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/,
    'must be pinned by a version tag or @sha256 digest (not :latest, not untagged)',
  ),
);

export const providerNames = ['gcp', 'aws', 'local'] as const;
export type ProviderName = (typeof providerNames)[number];

/** Optional key with a default; the description lands in the JSON Schema and the docs table. */
function withDefault<T extends v.GenericSchema>(schema: T, fallback: v.InferInput<T>, description: string) {
  return v.optional(v.pipe(schema, v.description(description)), fallback as never);
}
function described<T extends v.GenericSchema>(schema: T, description: string) {
  return v.pipe(schema, v.description(description));
}

const github = v.strictObject({
  appId: described(
    v.union([v.pipe(v.number(), v.integer(), v.minValue(1)), v.pipe(v.string(), v.regex(/^(\d+|Iv[0-9A-Za-z.]+)$/, 'must be a GitHub App id (digits) or client id (Iv…)'))], 'must be a GitHub App id or client id'),
    'GitHub App id (or client id) used as the JWT issuer.',
  ),
  installationId: v.optional(
    described(v.pipe(v.number(), v.integer(), v.minValue(1)), 'Installation id; looked up from the repository when omitted.'),
  ),
  privateKeySecret: described(
    secretReference,
    "Name (GCP) or name/ARN (AWS) of the secret holding the App's private key. Never the key itself.",
  ),
  apiUrl: withDefault(url, 'https://api.github.com', 'REST API base URL; set it for GitHub Enterprise Server.'),
});

const gcp = v.strictObject({
  project: described(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')), 'GCP project id.'),
  zones: withDefault(
    v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a zone such as us-central1-a'))), v.minLength(1, 'must name at least one zone')),
    ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'],
    'Zones tried in order when one has no capacity. Also the zones `status` and `destroy` search.',
  ),
  machineType: withDefault(v.string(), 'e2-standard-4', 'Machine type.'),
  serviceAccount: v.optional(
    described(
      v.pipe(
        v.string(),
        v.email('must be a service account email'),
        v.check((email) => !email.endsWith('-compute@developer.gserviceaccount.com'), 'must be a dedicated service account, not the default compute service account'),
      ),
      'Dedicated VM service account. Default: agentium-vm@<project>.iam.gserviceaccount.com (never the default compute SA).',
    ),
  ),
  network: withDefault(v.string(), 'global/networks/default', 'VPC network (used when no subnetwork is given).'),
  subnetwork: v.optional(described(v.string(), 'Subnetwork, e.g. regions/us-central1/subnetworks/agentium.')),
  externalIp: withDefault(v.boolean(), false, 'Give the VM an external IP. Default false: egress via Cloud NAT.'),
  image: withDefault(
    v.string(),
    'projects/cos-cloud/global/images/family/cos-stable',
    'Boot image (needs Docker and cloud-init, e.g. Container-Optimized OS).',
  ),
  diskSizeGb: withDefault(v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(2000)), 20, 'Boot disk size in GB.'),
  apiEndpoint: v.optional(described(url, 'Compute API endpoint (private endpoints; tests point it at a local fake).')),
});

const awsRegion = v.pipe(v.string(), v.regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'));

const aws = v.strictObject({
  region: described(awsRegion, 'AWS region: where sessions are launched.'),
  regions: v.optional(
    described(
      v.pipe(v.array(awsRegion), v.minLength(1, 'must name at least one region')),
      'Regions `status` and `destroy` search (aws.region is always included). Default: [aws.region]. Launches still use aws.region.',
    ),
  ),
  subnetIds: withDefault(
    v.array(v.pipe(v.string(), v.regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id'))),
    [],
    'Subnets tried in order on capacity errors (one per availability zone). Empty: the default VPC.',
  ),
  securityGroupIds: withDefault(
    v.array(v.pipe(v.string(), v.regex(/^sg-[0-9a-f]+$/, 'must be a security group id'))),
    [],
    'Security groups (with no ingress rules). Empty: the VPC default group.',
  ),
  instanceProfile: withDefault(v.string(), 'agentium-vm', 'Instance profile name (created by terraform/aws).'),
  instanceType: withDefault(v.string(), 'm7i.large', 'Instance type.'),
  ami: withDefault(
    v.pipe(v.string(), v.regex(/^(ami-[0-9a-f]+|resolve:ssm:\/.+)$/, 'must be an AMI id or resolve:ssm:<parameter>')),
    'resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id',
    "AMI id, or resolve:ssm:<parameter>. Default: AWS's public parameter for the ECS-optimized Amazon Linux 2023 AMI.",
  ),
  volumeSizeGb: withDefault(v.pipe(v.number(), v.integer(), v.minValue(30), v.maxValue(2000)), 30, 'Root volume size in GB (encrypted).'),
  endpoint: v.optional(described(url, 'EC2 endpoint (private endpoints; tests point it at a local fake).')),
});

const agent = v.strictObject({
  name: withDefault(v.pipe(v.string(), v.regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and -')), 'claude-code', 'Agent name, shown in status and PR text.'),
  image: withDefault(pinnedImage, 'ghcr.io/agentium/agent-claude-code:0.1.0', 'Agent container image, pinned by version or digest.'),
  command: v.optional(described(v.pipe(v.array(v.string()), v.minLength(1)), 'Command run in the agent image (default: the image entrypoint).')),
  llmKeySecret: v.optional(described(secretReference, 'Secret holding the LLM API key; the controller reads it and never gives it to the agent (the egress proxy that will add it to model API requests is not built yet).')),
  timeout: withDefault(duration, '90m', 'The agent is killed after this long; the session still reports and cleans up.'),
  cpus: withDefault(v.pipe(v.number(), v.gtValue(0), v.maxValue(64)), 2, 'CPU limit of the agent container.'),
  memory: withDefault(byteSize, '4g', 'Memory limit (swap is set equal: no extra swap).'),
  pids: withDefault(v.pipe(v.number(), v.integer(), v.minValue(16), v.maxValue(65_536)), 512, 'Process limit (a fork bomb hits it).'),
});

const session = v.strictObject({
  lifetime: withDefault(duration, '2h', 'Hard cap on the VM: the watchdog and the cloud both enforce it.'),
  spot: withDefault(v.boolean(), true, 'Use spot capacity.'),
  onDemandFallback: withDefault(v.boolean(), false, 'Retry on demand when no zone has spot capacity.'),
});

const controller = v.strictObject({
  image: withDefault(pinnedImage, 'ghcr.io/agentium/controller:0.1.0', 'Controller image started by cloud-init, pinned by version or digest.'),
});

const egress = v.strictObject({
  allow: withDefault(v.array(hostname), ['api.anthropic.com'], 'Hosts the agent may reach through the allowlisting proxy (port 443 only). The proxy is not built yet: until it is, the agent network has no way out at all.'),
});

const policy = v.strictObject({
  maxDiffBytes: withDefault(v.pipe(v.number(), v.integer(), v.minValue(1)), 1_048_576, 'Largest diff the controller will push.'),
  maxChangedFiles: withDefault(v.pipe(v.number(), v.integer(), v.minValue(1)), 200, 'Most files one PR may change.'),
});

export const configSchema = v.pipe(
  v.strictObject({
    $schema: v.optional(described(v.string(), 'JSON Schema reference for editors.')),
    provider: withDefault(v.picklist(providerNames, 'must be one of gcp, aws, local'), 'local', 'Where sessions run.'),
    repo: v.optional(described(v.pipe(v.string(), v.regex(repoPattern, 'must be owner/name')), 'Repository the agent works on (owner/name).')),
    github: v.optional(described(github, 'GitHub App identity. The VM mints a down-scoped installation token from it.')),
    gcp: v.optional(described(gcp, 'Google Cloud settings (provider: gcp).')),
    aws: v.optional(described(aws, 'AWS settings (provider: aws).')),
    agent: v.optional(described(agent, 'The coding agent and its container limits.'), {}),
    session: v.optional(described(session, 'Session lifetime and pricing.'), {}),
    controller: v.optional(described(controller, 'The on-VM controller.'), {}),
    egress: v.optional(described(egress, 'Agent network egress allowlist.'), {}),
    policy: v.optional(described(policy, 'Policy gate applied before anything is pushed.'), {}),
  }),
  v.description('Agentium configuration (.agentium.yaml).'),
);

export type AgentiumConfig = v.InferOutput<typeof configSchema>;
export type AgentiumConfigInput = v.InferInput<typeof configSchema>;

/** Validate and fill defaults; throws valibot's error on invalid input (tests and fixtures). */
export function parseConfig(input: unknown): AgentiumConfig {
  return v.parse(configSchema, input);
}
