/**
 * The AWS provider: launch, list and destroy sessions with the real `@aws-sdk/client-ec2` client.
 * The SDK (~140 ms to import) is loaded inside `createAwsProvider`, so only commands that talk to
 * AWS pay for it. Instances are found by the managed tag only; nothing here spells a tag name
 * except through src/labels.ts and ./tags.ts.
 */
import type { EC2Client, Instance, IpPermission, RunInstancesCommandOutput, SecurityGroup } from '@aws-sdk/client-ec2';
import type { AgentiumConfig } from '../../config/schema.js';
import { CapacityError, ConfigError, PolicyError } from '../../errors.js';
import { deadlineLabel, issueLabel, managedLabel, phaseTag, repoLabel, sessionLabel } from '../../labels.js';
import type { CloudProvider, DestroyResult, LaunchedSession, ProviderOptions, SessionList, SessionStatus, UnreachableLocation } from '../types.js';
import { chunk, mapWithConcurrency } from '../concurrency.js';
import { notFoundResult, unreachableResults } from '../unreachable.js';
import { awsErrorCode, isClearRefusal, isInstanceNotFound, launchRefusal, missingInstanceIds, normaliseAwsError } from './errors.js';
import { buildRunInstancesInput, clientTokenFor } from './request.js';

/** Everything tests and benchmarks inject; real use passes none of it. */
export interface AwsProviderOptions {
  /** Static credentials (tests); default: the SDK's default chain (env, profile, OIDC web identity, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Waiter timing in seconds; the SDK default first delay is 15 s. */
  waiter?: { minDelaySeconds?: number; maxDelaySeconds?: number; maxWaitSeconds?: number };
  /** SDK attempts per call (throttling and 5xx are retried); default 3. */
  maxAttempts?: number;
  /** Instance ids per TerminateInstances call (EC2 allows 1000; smaller bounds the blast radius). */
  terminateBatchSize?: number;
  /** TerminateInstances calls in flight at once, unless `destroy` is given its own. */
  concurrency?: number;
}

const liveStates = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
const managedFilter = { Name: `tag:${managedLabel}`, Values: ['true'] };
const stateFilter = { Name: 'instance-state-name', Values: liveStates };
/** EC2 accepts up to 200 values per filter; stay well below. */
const sessionFilterChunk = 100;

/**
 * The regions `status` and `destroy` sweep: `aws.regions`, default `[aws.region]`. The launch
 * region is always among them, so a session this CLI started can always be found again.
 */
export function configuredRegions(aws: NonNullable<AgentiumConfig['aws']>): string[] {
  return [...new Set([aws.region, ...(aws.regions ?? [])])];
}

function tagOf(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((tag) => tag.Key === key)?.Value;
}

function isManaged(instance: Instance): boolean {
  return tagOf(instance, managedLabel) === 'true';
}

/** One ingress rule as a person reads it: "tcp 22 from 0.0.0.0/0", "all traffic from sg-0abc". */
export function describeIngressRule(rule: IpPermission): string {
  const protocol = rule.IpProtocol === '-1' || rule.IpProtocol === undefined ? 'all traffic' : rule.IpProtocol;
  const ports =
    protocol === 'all traffic' || rule.FromPort === undefined ? '' : rule.FromPort === rule.ToPort || rule.ToPort === undefined ? ` ${rule.FromPort}` : ` ${rule.FromPort}-${rule.ToPort}`;
  const sources = [
    ...(rule.IpRanges ?? []).map((range) => range.CidrIp),
    ...(rule.Ipv6Ranges ?? []).map((range) => range.CidrIpv6),
    ...(rule.UserIdGroupPairs ?? []).map((pair) => pair.GroupId ?? pair.GroupName),
    ...(rule.PrefixListIds ?? []).map((list) => list.PrefixListId),
  ].filter((source): source is string => typeof source === 'string');
  return `${protocol}${ports} from ${sources.length > 0 ? sources.join(', ') : 'unspecified sources'}`;
}

interface FoundInstance {
  region: string;
  instance: Instance;
}

function toStatus({ region, instance }: FoundInstance): SessionStatus {
  const issue = Number(tagOf(instance, issueLabel));
  const deadline = Number(tagOf(instance, deadlineLabel));
  return {
    sessionId: tagOf(instance, sessionLabel) ?? instance.InstanceId ?? '',
    instance: instance.InstanceId ?? '',
    location: instance.Placement?.AvailabilityZone ?? region,
    state: (instance.State?.Name ?? 'unknown').toLowerCase(),
    phase: tagOf(instance, phaseTag),
    repo: tagOf(instance, repoLabel),
    issue: Number.isSafeInteger(issue) && issue > 0 ? issue : undefined,
    deadline: Number.isFinite(deadline) && deadline > 0 ? new Date(deadline * 1000).toISOString() : undefined,
  };
}

export async function createAwsProvider(config: AgentiumConfig, options: AwsProviderOptions = {}): Promise<CloudProvider> {
  const aws = config.aws;
  if (!aws) throw new ConfigError('the aws provider needs an "aws" section with at least "region"', { hint: 'run agentium init' });
  const sdk = await import('@aws-sdk/client-ec2');
  const regions = configuredRegions(aws);
  const batchSize = Math.min(options.terminateBatchSize ?? 50, 1000);
  const waiter = { minDelaySeconds: 2, maxDelaySeconds: 15, maxWaitSeconds: 300, ...options.waiter };

  const clients = new Map<string, EC2Client>();
  const clientFor = (region: string): EC2Client => {
    let client = clients.get(region);
    if (!client) {
      client = new sdk.EC2Client({
        region,
        ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        maxAttempts: options.maxAttempts ?? 3,
      });
      clients.set(region, client);
    }
    return client;
  };

  /** Managed, not-terminated instances in one region, all pages; optionally only some sessions. */
  async function findInRegion(region: string, sessionIds: string[] | undefined, signal?: AbortSignal): Promise<FoundInstance[]> {
    const filterSets =
      sessionIds === undefined
        ? [[managedFilter, stateFilter]]
        : chunk(sessionIds, sessionFilterChunk).map((ids) => [managedFilter, stateFilter, { Name: `tag:${sessionLabel}`, Values: ids }]);
    const found: FoundInstance[] = [];
    try {
      for (const Filters of filterSets) {
        const pages = sdk.paginateDescribeInstances({ client: clientFor(region), pageSize: 1000, ...(signal ? { abortSignal: signal } : {}) }, { Filters });
        for await (const page of pages) {
          for (const reservation of page.Reservations ?? []) {
            // Defence in depth: the filter already asked for the managed tag; never trust it alone.
            for (const instance of reservation.Instances ?? []) if (isManaged(instance)) found.push({ region, instance });
          }
        }
      }
    } catch (error) {
      throw normaliseAwsError(error, `EC2 DescribeInstances in ${region}`);
    }
    return found;
  }

  /**
   * Every region at once. A region that fails is reported unreachable and the others still count;
   * only when no region answered is it an error (so bad credentials stay an AuthError, exit 3).
   */
  async function findManaged(sessionIds: string[] | undefined, signal?: AbortSignal): Promise<{ found: FoundInstance[]; unreachable: UnreachableLocation[] }> {
    const settled = await Promise.allSettled(regions.map((region) => findInRegion(region, sessionIds, signal)));
    const failures = settled.flatMap((outcome, index) => (outcome.status === 'rejected' ? [{ region: regions[index] ?? '', error: outcome.reason as Error }] : []));
    if (failures.length === settled.length && failures[0]) throw failures[0].error;
    return {
      found: settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? outcome.value : [])),
      unreachable: failures.map(({ region, error }) => ({ location: region, reason: error.message })),
    };
  }

  /** Terminates a batch of managed instances; an id that vanished meanwhile is "already gone". */
  async function terminateBatch(region: string, batch: FoundInstance[]): Promise<DestroyResult[]> {
    const describe = (found: FoundInstance, outcome: DestroyResult['outcome'], error?: string): DestroyResult => ({
      ...toStatusPick(found),
      outcome,
      ...(error === undefined ? {} : { error }),
    });
    const ids = batch.map(({ instance }) => instance.InstanceId ?? '');
    try {
      const output = await clientFor(region).send(new sdk.TerminateInstancesCommand({ InstanceIds: ids }));
      const previous = new Map((output.TerminatingInstances ?? []).map((item) => [item.InstanceId, item.PreviousState?.Name]));
      // Already shutting down or terminated before this call: someone (or an earlier run) got there first.
      const wasGoing = (id: string | undefined) => ['shutting-down', 'terminated'].includes(previous.get(id) ?? '');
      return batch.map((found) => describe(found, wasGoing(found.instance.InstanceId) ? 'already-gone' : 'deleted'));
    } catch (error) {
      if (isInstanceNotFound(error)) {
        const gone = new Set(missingInstanceIds(error));
        const rest = batch.filter(({ instance }) => !gone.has(instance.InstanceId ?? ''));
        if (gone.size > 0 && rest.length < batch.length) {
          const goneResults = batch.filter((found) => gone.has(found.instance.InstanceId ?? '')).map((found) => describe(found, 'already-gone'));
          return [...goneResults, ...(rest.length > 0 ? await terminateBatch(region, rest) : [])];
        }
      }
      const message = normaliseAwsError(error, `EC2 TerminateInstances in ${region}`).message;
      return batch.map((found) => describe(found, 'failed', message));
    }
  }

  function toStatusPick(found: FoundInstance): Pick<DestroyResult, 'sessionId' | 'instance' | 'location'> {
    const { sessionId, instance, location } = toStatus(found);
    return { sessionId, instance, location };
  }

  async function destroyFound(found: FoundInstance[], concurrency: number): Promise<DestroyResult[]> {
    const batches = regions.flatMap((region) =>
      chunk(
        found.filter((item) => item.region === region),
        batchSize,
      ).map((batch) => ({ region, batch })),
    );
    return (await mapWithConcurrency(batches, concurrency, ({ region, batch }) => terminateBatch(region, batch))).flat();
  }

  /** Best effort after a failed launch: whatever carries this session's tag goes. */
  async function removeSession(sessionId: string): Promise<string[]> {
    try {
      const { found, unreachable } = await findManaged([sessionId]);
      if (unreachable.length > 0) return unreachable.map((entry) => `(unknown: ${entry.location} could not be searched)`);
      const results = await destroyFound(found, 4);
      return results.filter((result) => result.outcome === 'failed').map((result) => result.instance);
    } catch {
      return ['(unknown: the cleanup lookup failed)'];
    }
  }

  async function waitUntilRunning(region: string, instanceId: string, signal?: AbortSignal): Promise<void> {
    await sdk.waitUntilInstanceRunning(
      {
        client: clientFor(region),
        minDelay: waiter.minDelaySeconds,
        maxDelay: Math.max(waiter.maxDelaySeconds, waiter.minDelaySeconds),
        maxWaitTime: waiter.maxWaitSeconds,
        ...(signal ? { abortSignal: signal } : {}),
      },
      { InstanceIds: [instanceId] },
    );
  }

  /**
   * SECURITY-CHECKLIST 32: the instance's groups must admit nothing in. Reads every configured group
   * before anything is created and refuses (PolicyError, exit 6) when one has an ingress rule. No
   * group at all means the VPC's default group, which admits its own members: refused too.
   */
  async function requireNoIngress(region: string, signal?: AbortSignal): Promise<void> {
    const groupIds = [...new Set(aws?.securityGroupIds ?? [])];
    if (groupIds.length === 0) {
      throw new PolicyError('aws.securityGroupIds is empty: the VPC default security group admits traffic from its own members', {
        hint: 'create a security group with no inbound rules (docs/providers/aws.md) and set aws.securityGroupIds',
      });
    }
    let groups: SecurityGroup[];
    try {
      const output = await clientFor(region).send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: groupIds }), signal ? { abortSignal: signal } : {});
      groups = output.SecurityGroups ?? [];
    } catch (error) {
      throw normaliseAwsError(error, `EC2 DescribeSecurityGroups in ${region}`, { securityGroupIds: groupIds });
    }
    const described = new Set(groups.map((group) => group.GroupId));
    const missing = groupIds.filter((id) => !described.has(id));
    if (missing.length > 0) {
      // EC2 answers an unknown id with InvalidGroup.NotFound; an answer without it is no proof either.
      throw new PolicyError(`EC2 DescribeSecurityGroups in ${region} did not describe ${missing.join(', ')}: cannot check for ingress rules`, {
        details: { securityGroupIds: missing },
      });
    }
    const open = groups
      .filter((group) => (group.IpPermissions ?? []).length > 0)
      .map((group) => ({ group: group.GroupId ?? '', name: group.GroupName, ingress: (group.IpPermissions ?? []).map(describeIngressRule) }));
    if (open.length > 0) {
      throw new PolicyError(
        `security group ${open.map(({ group, ingress }) => `${group} has ingress rules (${ingress.join('; ')})`).join(', ')}: an Agentium instance must admit no inbound traffic`,
        {
          hint: 'remove every inbound rule from the group, or name a group without any in aws.securityGroupIds (docs/providers/aws.md)',
          details: { securityGroups: open },
        },
      );
    }
  }

  return {
    name: 'aws',

    async launch(plan, launchOptions: ProviderOptions = {}): Promise<LaunchedSession> {
      const { spec, userData } = plan;
      const region = regions[0] ?? aws.region;
      const client = clientFor(region);
      const progress = launchOptions.onProgress ?? (() => {});
      const signal = launchOptions.signal;
      const markets = config.session.spot ? (config.session.onDemandFallback ? [true, false] : [true]) : [false];
      const subnets: Array<string | undefined> = aws.subnetIds.length > 0 ? aws.subnetIds : [undefined];
      const refusals: Array<{ subnet: string; market: string; code: string }> = [];

      progress(`checking that security group(s) ${aws.securityGroupIds.join(', ') || '(none)'} admit no inbound traffic`);
      await requireNoIngress(region, signal);

      // Set when an instance may exist: RunInstances answered, or failed without a clear refusal.
      let mayHaveCreated = false;
      try {
        for (const spot of markets) {
          const market = spot ? 'spot' : 'on-demand';
          for (const subnetId of subnets) {
            const where = subnetId ?? `the default VPC of ${region}`;
            progress(`launching a ${market} ${aws.instanceType} instance in ${where}`);
            const input = buildRunInstancesInput(spec, aws, {
              subnetId,
              spot,
              userData,
              clientToken: clientTokenFor(spec.id, subnetId, spot),
            });
            let output: RunInstancesCommandOutput;
            try {
              output = await client.send(new sdk.RunInstancesCommand(input), signal ? { abortSignal: signal } : {});
            } catch (error) {
              if (!isClearRefusal(error)) mayHaveCreated = true;
              const refusal = launchRefusal(error);
              if (refusal === undefined) throw error;
              const code = awsErrorCode(error) ?? 'unknown';
              refusals.push({ subnet: subnetId ?? 'default', market, code });
              progress(`${where}: ${code}${refusal === 'next-market' ? ` (no other ${market} subnet will do)` : ''}`);
              if (refusal === 'next-market') break;
              continue;
            }
            mayHaveCreated = true;
            const launched = output.Instances?.[0];
            const instanceId = launched?.InstanceId;
            if (!instanceId) throw new Error('EC2 RunInstances returned no instance id');
            progress(`instance ${instanceId} created, waiting until it is running`);
            try {
              await waitUntilRunning(region, instanceId, signal);
            } catch (error) {
              throw normaliseAwsError(error, `waiting for instance ${instanceId} to run`, { instance: instanceId });
            }
            // Aborted as the waiter succeeded: still a cancelled launch, so the catch below cleans up.
            signal?.throwIfAborted();
            return {
              sessionId: spec.id,
              instance: instanceId,
              location: launched.Placement?.AvailabilityZone ?? region,
              spot,
            };
          }
        }
      } catch (error) {
        const leftBehind = mayHaveCreated ? await removeSession(spec.id) : [];
        if (leftBehind.length > 0) progress(`could not remove ${leftBehind.join(', ')}: run agentium destroy ${spec.id}`);
        throw normaliseAwsError(error, `EC2 RunInstances in ${region}`, leftBehind.length > 0 ? { leftBehind } : {});
      }
      // Every attempt was refused; a 5xx refusal may still hide a lost success, so sweep.
      const leftBehind = mayHaveCreated ? await removeSession(spec.id) : [];
      throw new CapacityError(`no capacity for ${aws.instanceType} in ${region}: ${refusals.map((r) => `${r.market} ${r.subnet}: ${r.code}`).join('; ')}`, {
        hint: config.session.spot && !config.session.onDemandFallback
          ? 'add subnets in other availability zones (aws.subnetIds) or set session.onDemandFallback: true'
          : 'add subnets in other availability zones (aws.subnetIds), pick another instance type, or raise the quota',
        details: { region, attempts: refusals, ...(leftBehind.length > 0 ? { leftBehind } : {}) },
      });
    },

    async list(listOptions: ProviderOptions = {}): Promise<SessionList> {
      const { found, unreachable } = await findManaged(undefined, listOptions.signal);
      return { sessions: found.map(toStatus), unreachable };
    },

    async destroy(target, destroyOptions = {}): Promise<DestroyResult[]> {
      const sessionIds = target === 'all' ? undefined : [...new Set(target)];
      if (sessionIds?.length === 0) return [];
      const { found, unreachable } = await findManaged(sessionIds, destroyOptions.signal);
      destroyOptions.onProgress?.(`terminating ${found.length} instance(s) in ${regions.join(', ')}`);
      const results = await destroyFound(found, destroyOptions.concurrency ?? options.concurrency ?? 16);
      const seen = new Set(found.map(({ instance }) => tagOf(instance, sessionLabel)));
      const gone = (sessionIds ?? []).filter((id) => !seen.has(id)).map((sessionId) => notFoundResult(sessionId, unreachable));
      return [...results, ...gone, ...unreachableResults(unreachable, 'region')];
    },
  };
}
