/**
 * A stateful EC2 fake speaking the real wire protocol: Query (form-encoded POST) in, XML out, with
 * the element names of the EC2 API reference (`reservationSet/item/instancesSet/item`, `tagSet`,
 * `requestId`; errors as `<Response><Errors><Error><Code>`). The real `@aws-sdk/client-ec2` talks
 * to it over HTTP on 127.0.0.1. The region of each call is read from the SigV4 credential scope,
 * so one fake serves several regions with separate instance sets.
 *
 * Security groups are seeded (`securityGroups` option or `seedSecurityGroup`); DescribeSecurityGroups
 * answers with `securityGroupInfo/item` carrying `ipPermissions/item` (ingress) and
 * `ipPermissionsEgress/item`, each rule with `ipProtocol`, `fromPort`/`toPort`, `groups`,
 * `ipRanges/item/cidrIp`, `ipv6Ranges/item/cidrIpv6` and `prefixListIds/item/prefixListId` (EC2 API
 * reference: SecurityGroup, IpPermission). An unknown group id, there or in RunInstances, is
 * `InvalidGroup.NotFound`, as in EC2.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startFakeServer } from '../http.js';
import type { FakeResponse as FakeReply, RecordedRequest as ReceivedRequest } from '../http.js';
import { credentialScope } from './sigv4.js';

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
const stateCodes: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface FakeInstance {
  id: string;
  region: string;
  availabilityZone: string;
  subnetId: string | undefined;
  imageId: string;
  instanceType: string;
  spot: boolean;
  clientToken: string | undefined;
  launchedAt: number;
  /** Set once TerminateInstances is accepted. */
  terminatedAt: number | undefined;
  /** The instance was put in a state explicitly (seeded instances). */
  pinnedState: InstanceState | undefined;
  tags: Map<string, string>;
  /** The RunInstances parameters that created it (empty for seeded instances). */
  params: Record<string, string>;
}

/** One security-group rule (EC2's IpPermission); `protocol: '-1'` is all traffic. */
export interface FakeIpPermission {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs?: string[];
  ipv6Cidrs?: string[];
  /** Referenced security groups (a group that admits its own members names itself). */
  groupIds?: string[];
  prefixListIds?: string[];
}

export interface FakeSecurityGroup {
  id: string;
  region: string;
  name: string;
  vpcId: string;
  /** Inbound rules (`ipPermissions`); Agentium wants none. */
  ingress: FakeIpPermission[];
  /** Outbound rules (`ipPermissionsEgress`); a new EC2 group allows all traffic out. */
  egress: FakeIpPermission[];
}

export type SecurityGroupSeed = Pick<FakeSecurityGroup, 'id'> & Partial<Omit<FakeSecurityGroup, 'id'>>;

/** One request as the fake received it: action, region (from the signature) and decoded form. */
export interface Ec2Call {
  action: string;
  region: string;
  params: Record<string, string>;
  headers: ReceivedRequest['headers'];
}

export interface InjectedError {
  action: string;
  code: string;
  /** HTTP status; capacity errors are 500 in real EC2 (so the SDK retries them), client errors 400. */
  status?: number;
  message?: string;
  /** How many calls fail; default 1, `Infinity` for "always". */
  times?: number;
  /** Only calls whose decoded parameters match. */
  match?: (params: Record<string, string>, region: string) => boolean;
}

export interface Ec2FakeOptions {
  /** Delay before each reply (benchmarks make call count visible in wall time). */
  latencyMs?: number;
  /** Access key id the signature must carry; others get AuthFailure. */
  accessKeyId?: string;
  /** Subnet id → availability zone; unknown subnets are InvalidSubnetID.NotFound. */
  subnets?: Record<string, string>;
  /** A new instance stays pending this long before it is running. */
  pendingMs?: number;
  /** A terminated instance stays shutting-down this long. */
  shuttingDownMs?: number;
  /** DescribeInstances by id answers NotFound this many times after launch (eventual consistency). */
  notFoundDescribesAfterLaunch?: number;
  /** Security groups that exist from the start (region default us-east-1, no ingress unless given). */
  securityGroups?: SecurityGroupSeed[];
}

/** Parameters that are not part of the idempotent request itself. */
const envelopeFields = new Set(['Action', 'Version', 'ClientToken']);

export interface Ec2Fake {
  url: string;
  calls: Ec2Call[];
  /** Latency per call in milliseconds; may be changed at any time. */
  latencyMs: number;
  instances: Map<string, FakeInstance>;
  securityGroups: Map<string, FakeSecurityGroup>;
  /** Add (or replace) a security group; ingress and egress default to EC2's new-group rules. */
  seedSecurityGroup(group: SecurityGroupSeed): FakeSecurityGroup;
  callsOf(action: string): Ec2Call[];
  inject(error: InjectedError): void;
  /** Put an instance straight into the fake (e.g. hundreds for destroy --all, or unmanaged ones). */
  seed(instance: { region?: string; tags?: Record<string, string>; state?: InstanceState; availabilityZone?: string }): FakeInstance;
  stateOf(id: string): InstanceState;
  close(): Promise<void>;
}

export async function startEc2Fake(options: Ec2FakeOptions = {}): Promise<Ec2Fake> {
  const calls: Ec2Call[] = [];
  const instances = new Map<string, FakeInstance>();
  const injected: InjectedError[] = [];
  const describeMisses = new Map<string, number>();
  const securityGroups = new Map<string, FakeSecurityGroup>();
  const seedSecurityGroup = (group: SecurityGroupSeed): FakeSecurityGroup => {
    const full: FakeSecurityGroup = {
      region: 'us-east-1',
      name: group.id,
      vpcId: 'vpc-0fa1ca9559f1892ec',
      ingress: [],
      egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'] }],
      ...group,
    };
    securityGroups.set(full.id, full);
    return full;
  };
  for (const group of options.securityGroups ?? []) seedSecurityGroup(group);
  const pendingMs = options.pendingMs ?? 0;
  const shuttingDownMs = options.shuttingDownMs ?? 0;

  function stateOf(id: string): InstanceState {
    const instance = instances.get(id);
    if (!instance) throw new Error(`no instance ${id}`);
    const now = Date.now();
    if (instance.terminatedAt !== undefined) {
      return now - instance.terminatedAt >= shuttingDownMs ? 'terminated' : 'shutting-down';
    }
    if (instance.pinnedState) return instance.pinnedState;
    return now - instance.launchedAt >= pendingMs ? 'running' : 'pending';
  }

  function newInstance(region: string, fields: Partial<FakeInstance>): FakeInstance {
    const instance: FakeInstance = {
      id: `i-${randomBytes(8).toString('hex').slice(0, 17)}`,
      region,
      availabilityZone: `${region}a`,
      subnetId: undefined,
      imageId: 'ami-0123456789abcdef0',
      instanceType: 'm7i.large',
      spot: false,
      clientToken: undefined,
      launchedAt: Date.now(),
      terminatedAt: undefined,
      pinnedState: undefined,
      tags: new Map(),
      params: {},
      ...fields,
    };
    instances.set(instance.id, instance);
    return instance;
  }

  const handle = (request: ReceivedRequest): FakeReply => {
    const params = Object.fromEntries(new URLSearchParams(request.body));
    const action = params.Action ?? '';
    const scope = credentialScope(request.headers, 'ec2');
    const region = scope?.region ?? 'unknown';
    calls.push({ action, region, params, headers: request.headers });

    if (!scope || (options.accessKeyId && scope.accessKeyId !== options.accessKeyId)) {
      return errorReply(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    }
    const rule = injected.find((candidate) => candidate.action === action && (candidate.match?.(params, region) ?? true));
    if (rule) {
      rule.times = (rule.times ?? 1) - 1;
      if (rule.times <= 0) injected.splice(injected.indexOf(rule), 1);
      return errorReply(rule.status ?? 400, rule.code, rule.message ?? `injected ${rule.code}`);
    }
    switch (action) {
      case 'RunInstances':
        return runInstances(params, region);
      case 'DescribeInstances':
        return describeInstances(params, region);
      case 'TerminateInstances':
        return terminateInstances(params, region);
      case 'CreateTags':
        return createTags(params, region);
      case 'DescribeSecurityGroups':
        return describeSecurityGroups(params, region);
      default:
        return errorReply(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  };

  function runInstances(params: Record<string, string>, region: string): FakeReply {
    if (!params.ImageId) return errorReply(400, 'MissingParameter', 'The request must contain the parameter ImageId');
    if (params.MinCount !== '1' || params.MaxCount !== '1') {
      return errorReply(400, 'InvalidParameterValue', 'this fake launches exactly one instance per call');
    }
    const token = params.ClientToken;
    if (token) {
      const previous = [...instances.values()].find((instance) => instance.clientToken === token && instance.region === region);
      if (previous) {
        const same = Object.keys({ ...params, ...previous.params }).every(
          (key) => envelopeFields.has(key) || params[key] === previous.params[key],
        );
        if (!same) return errorReply(400, 'IdempotentParameterMismatch', 'The client token was used with different parameters');
        return xmlReply('RunInstancesResponse', reservationXml(previous, false));
      }
    }
    let availabilityZone = `${region}a`;
    const subnetId = params.SubnetId ?? params['NetworkInterface.1.SubnetId'];
    if (subnetId) {
      const zone = options.subnets?.[subnetId];
      if (!zone) return errorReply(400, 'InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
      availabilityZone = zone;
    }
    const groupIds = [...indexed(params, 'SecurityGroupId'), ...indexed(params, 'NetworkInterface.1.SecurityGroupId')];
    const unknownGroup = groupIds.find((id) => securityGroups.get(id)?.region !== region);
    if (unknownGroup !== undefined) return groupNotFound(unknownGroup);
    const tags = new Map<string, string>();
    for (const [key, value] of Object.entries(params)) {
      const tagKey = /^TagSpecification\.(\d+)\.Tag\.(\d+)\.Key$/.exec(key);
      if (tagKey && params[`TagSpecification.${tagKey[1]}.ResourceType`] === 'instance') {
        tags.set(value, params[`TagSpecification.${tagKey[1]}.Tag.${tagKey[2]}.Value`] ?? '');
      }
    }
    const instance = newInstance(region, {
      availabilityZone,
      subnetId,
      imageId: params.ImageId.startsWith('resolve:ssm:') ? 'ami-0fa1ca9559f1892ec' : params.ImageId,
      instanceType: params.InstanceType ?? 'm1.small',
      spot: params['InstanceMarketOptions.MarketType'] === 'spot',
      clientToken: token,
      tags,
      params,
    });
    describeMisses.set(instance.id, options.notFoundDescribesAfterLaunch ?? 0);
    return xmlReply('RunInstancesResponse', reservationXml(instance, true));
  }

  function describeInstances(params: Record<string, string>, region: string): FakeReply {
    const ids = indexed(params, 'InstanceId');
    const maxResults = params.MaxResults === undefined ? undefined : Number(params.MaxResults);
    if (maxResults !== undefined && ids.length > 0) {
      return errorReply(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    if (maxResults !== undefined && !(maxResults >= 5 && maxResults <= 1000)) {
      return errorReply(400, 'InvalidParameterValue', `Value ( ${params.MaxResults} ) for parameter maxResults is invalid.`);
    }
    const filters: Array<{ name: string; values: string[] }> = [];
    for (const key of Object.keys(params)) {
      const match = /^Filter\.(\d+)\.Name$/.exec(key);
      if (match) filters.push({ name: params[key] ?? '', values: indexed(params, `Filter.${match[1]}.Value`) });
    }
    for (const filter of filters) {
      if (!/^(tag:.+|tag-key|instance-state-name|instance-id)$/.test(filter.name)) {
        return errorReply(400, 'InvalidParameterValue', `The filter '${filter.name}' is invalid`);
      }
    }
    const missing = ids.filter((id) => {
      const instance = instances.get(id);
      if (!instance || instance.region !== region) return true;
      const misses = describeMisses.get(id) ?? 0;
      if (misses > 0) {
        describeMisses.set(id, misses - 1);
        return true;
      }
      return false;
    });
    if (missing.length > 0) return notFound(missing);

    const selected = [...instances.values()].filter((instance) => {
      if (instance.region !== region) return false;
      if (ids.length > 0 && !ids.includes(instance.id)) return false;
      return filters.every(({ name, values }) => {
        if (name === 'instance-state-name') return values.includes(stateOf(instance.id));
        if (name === 'instance-id') return values.includes(instance.id);
        if (name === 'tag-key') return values.some((value) => instance.tags.has(value));
        const tag = instance.tags.get(name.slice('tag:'.length));
        return tag !== undefined && values.includes(tag);
      });
    });
    const start = params.NextToken ? Number(Buffer.from(params.NextToken, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) return errorReply(400, 'InvalidParameterValue', 'Invalid NextToken');
    const end = maxResults === undefined ? selected.length : start + maxResults;
    const page = selected.slice(start, end);
    const next = end < selected.length ? `<nextToken>${Buffer.from(String(end)).toString('base64url')}</nextToken>` : '';
    const reservations = page.map((instance) => `<item>${reservationXml(instance, false)}</item>`).join('');
    return xmlReply('DescribeInstancesResponse', `<reservationSet>${reservations}</reservationSet>${next}`);
  }

  function terminateInstances(params: Record<string, string>, region: string): FakeReply {
    const ids = indexed(params, 'InstanceId');
    if (ids.length === 0) return errorReply(400, 'MissingParameter', 'The request must contain the parameter InstanceId');
    if (ids.length > 1000) return errorReply(400, 'InvalidParameterValue', 'Too many instance ids (at most 1000)');
    const missing = ids.filter((id) => instances.get(id)?.region !== region);
    // Like EC2: one unknown id fails the whole call, and nothing is terminated.
    if (missing.length > 0) return notFound(missing);
    const items = ids.map((id) => {
      const instance = instances.get(id) as FakeInstance;
      const previous = stateOf(id);
      if (instance.terminatedAt === undefined) instance.terminatedAt = Date.now();
      const current = stateOf(id);
      return `<item><instanceId>${id}</instanceId><currentState><code>${stateCodes[current]}</code><name>${current}</name></currentState><previousState><code>${stateCodes[previous]}</code><name>${previous}</name></previousState></item>`;
    });
    return xmlReply('TerminateInstancesResponse', `<instancesSet>${items.join('')}</instancesSet>`);
  }

  function createTags(params: Record<string, string>, region: string): FakeReply {
    const ids = indexed(params, 'ResourceId');
    const missing = ids.filter((id) => instances.get(id)?.region !== region);
    if (missing.length > 0) return notFound(missing);
    for (const id of ids) {
      const instance = instances.get(id) as FakeInstance;
      for (const [key, value] of Object.entries(params)) {
        const match = /^Tag\.(\d+)\.Key$/.exec(key);
        if (match) instance.tags.set(value, params[`Tag.${match[1]}.Value`] ?? '');
      }
    }
    return xmlReply('CreateTagsResponse', '<return>true</return>');
  }

  function describeSecurityGroups(params: Record<string, string>, region: string): FakeReply {
    const ids = indexed(params, 'GroupId');
    if (Object.keys(params).some((key) => /^(Filter|GroupName)\./.test(key) || key === 'MaxResults' || key === 'NextToken')) {
      return errorReply(400, 'InvalidParameterValue', 'this fake answers DescribeSecurityGroups by GroupId only');
    }
    const malformed = ids.find((id) => !/^sg-[0-9a-f]{1,17}$/.test(id));
    if (malformed !== undefined) return errorReply(400, 'InvalidGroupId.Malformed', `Invalid id: "${malformed}" (expecting "sg-...")`);
    const missing = ids.find((id) => securityGroups.get(id)?.region !== region);
    if (missing !== undefined) return groupNotFound(missing);
    const selected = ids.length > 0 ? ids.map((id) => securityGroups.get(id) as FakeSecurityGroup) : [...securityGroups.values()].filter((group) => group.region === region);
    const items = selected.map(
      (group) =>
        `<item><ownerId>123456789012</ownerId><groupId>${group.id}</groupId><groupName>${xml(group.name)}</groupName>` +
        `<groupDescription>${xml(group.name)}</groupDescription><vpcId>${group.vpcId}</vpcId>` +
        `<securityGroupArn>arn:aws:ec2:${region}:123456789012:security-group/${group.id}</securityGroupArn>` +
        `<ipPermissions>${group.ingress.map(permissionXml).join('')}</ipPermissions>` +
        `<ipPermissionsEgress>${group.egress.map(permissionXml).join('')}</ipPermissionsEgress><tagSet/></item>`,
    );
    return xmlReply('DescribeSecurityGroupsResponse', `<securityGroupInfo>${items.join('')}</securityGroupInfo>`);
  }

  function reservationXml(instance: FakeInstance, forRun: boolean): string {
    const state = forRun ? 'pending' : stateOf(instance.id);
    const tags = [...instance.tags].map(([key, value]) => `<item><key>${xml(key)}</key><value>${xml(value)}</value></item>`).join('');
    const body =
      `<instanceId>${instance.id}</instanceId><imageId>${xml(instance.imageId)}</imageId>` +
      `<instanceState><code>${stateCodes[state]}</code><name>${state}</name></instanceState>` +
      `<instanceType>${xml(instance.instanceType)}</instanceType>` +
      `<launchTime>${new Date(instance.launchedAt).toISOString()}</launchTime>` +
      `<placement><availabilityZone>${instance.availabilityZone}</availabilityZone><tenancy>default</tenancy></placement>` +
      (instance.subnetId ? `<subnetId>${instance.subnetId}</subnetId>` : '') +
      (instance.clientToken ? `<clientToken>${xml(instance.clientToken)}</clientToken>` : '') +
      (instance.spot ? '<instanceLifecycle>spot</instanceLifecycle>' : '') +
      `<tagSet>${tags}</tagSet>`;
    return (
      `<reservationId>r-${instance.id.slice(2)}</reservationId><ownerId>123456789012</ownerId>` +
      `<groupSet/><instancesSet><item>${body}</item></instancesSet>`
    );
  }

  const server = await startFakeServer(handle, { latencyMs: options.latencyMs ?? 0 });
  return {
    url: server.url,
    calls,
    get latencyMs() {
      return server.latencyMs;
    },
    set latencyMs(value: number) {
      server.latencyMs = value;
    },
    instances,
    securityGroups,
    seedSecurityGroup,
    callsOf: (action) => calls.filter((call) => call.action === action),
    inject: (error) => {
      injected.push({ ...error });
    },
    seed: ({ region = 'us-east-1', tags = {}, state, availabilityZone }) =>
      newInstance(region, {
        tags: new Map(Object.entries(tags)),
        // A seeded shutting-down instance stays so until it is terminated (again).
        pinnedState: state === 'terminated' ? undefined : (state ?? 'running'),
        terminatedAt: state === 'terminated' ? Date.now() - shuttingDownMs - 1 : undefined,
        availabilityZone: availabilityZone ?? `${region}a`,
      }),
    stateOf,
    close: server.close,
  };
}

/** `Prefix.1`, `Prefix.2`, … in index order (EC2's flattened list encoding). */
export function indexed(params: Record<string, string>, prefix: string): string[] {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`);
  return Object.entries(params)
    .map(([key, value]) => [Number(pattern.exec(key)?.[1]), value] as const)
    .filter(([index]) => !Number.isNaN(index))
    .sort(([a], [b]) => a - b)
    .map(([, value]) => value);
}

function notFound(ids: string[]): FakeReply {
  const message = ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`;
  return errorReply(400, 'InvalidInstanceID.NotFound', message);
}

function groupNotFound(id: string): FakeReply {
  return errorReply(400, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
}

function permissionXml(rule: FakeIpPermission): string {
  const items = (values: string[] | undefined, element: (value: string) => string) => (values ?? []).map((value) => `<item>${element(value)}</item>`).join('');
  return (
    `<item><ipProtocol>${xml(rule.protocol)}</ipProtocol>` +
    (rule.fromPort === undefined ? '' : `<fromPort>${rule.fromPort}</fromPort>`) +
    (rule.toPort === undefined ? '' : `<toPort>${rule.toPort}</toPort>`) +
    `<groups>${items(rule.groupIds, (id) => `<userId>123456789012</userId><groupId>${id}</groupId>`)}</groups>` +
    `<ipRanges>${items(rule.cidrs, (cidr) => `<cidrIp>${cidr}</cidrIp>`)}</ipRanges>` +
    `<ipv6Ranges>${items(rule.ipv6Cidrs, (cidr) => `<cidrIpv6>${cidr}</cidrIpv6>`)}</ipv6Ranges>` +
    `<prefixListIds>${items(rule.prefixListIds, (id) => `<prefixListId>${id}</prefixListId>`)}</prefixListIds></item>`
  );
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlReply(root: string, inner: string): FakeReply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId>${inner}</${root}>`,
  };
}

export function errorReply(status: number, code: string, message: string): FakeReply {
  return {
    status,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
  };
}
