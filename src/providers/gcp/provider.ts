/**
 * The GCP provider: creates, lists and deletes session instances with the real
 * `@google-cloud/compute` client. The SDK (about a second to import) is loaded inside
 * `createGcpProvider`, so only a command that really talks to GCP pays for it.
 */
import { randomUUID } from 'node:crypto';
import type { InstancesClient, ZoneOperationsClient, protos } from '@google-cloud/compute';
import type { AgentiumConfig } from '../../config/schema.js';
import { AgentiumError, CapacityError, ConfigError } from '../../errors.js';
import { deadlineLabel, gcpLabelValue, issueLabel, managedLabel, repoLabel, sessionLabel } from '../../labels.js';
import type { SessionSpec } from '../../session/spec.js';
import type { CloudProvider, DestroyResult, LaunchedSession, LaunchPlan, ProviderOptions, SessionList, UnreachableLocation } from '../types.js';
import { mapWithConcurrency } from '../concurrency.js';
import { notFoundResult, unreachableResults } from '../unreachable.js';
import { classifyGcpError, normaliseGcpError, operationError, toGcpAgentiumError, type GcpErrorInfo } from './errors.js';
import { guestAttributeNamespace, guestAttributeQueryPath, phaseKey } from './guest-attributes.js';
import { buildGcpInsertRequest, type GcpConfig } from './request.js';
import { insertRequestId, requestIdFor } from './request-id.js';
import { defaultRetryPolicy, withRetry, type RetryPolicy } from './retry.js';

type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;
type Operation = protos.google.cloud.compute.v1.IOperation;
type Instance = protos.google.cloud.compute.v1.IInstance;
type AggregatedListRequest = protos.google.cloud.compute.v1.IAggregatedListInstancesRequest;
type AggregatedList = protos.google.cloud.compute.v1.IInstanceAggregatedList;
/** One page of `aggregatedList`: the scoped lists, the next page's request, the raw response. */
type AggregatedPage = [AggregatedList['items'], AggregatedListRequest | null, AggregatedList];
/** gax calls return a promise that can also cancel its HTTP request. */
type CancellableCall<T> = Promise<T> & { cancel?: () => void };

/** The injection point: real use takes the defaults; tests and benchmarks point at local fakes. */
export interface GcpProviderDeps {
  /**
   * 'adc': Application Default Credentials. 'none': send no credentials (a local fake).
   * Default: 'none' when gcp.apiEndpoint is plain http:// (a token never travels unencrypted),
   * else 'adc'.
   */
  credentials?: 'adc' | 'none';
  retry?: Partial<RetryPolicy>;
  /** Give up waiting on one operation after this long. Default 10 minutes. */
  operationTimeoutMs?: number;
  /** Pause between operation polls when `wait` returns before DONE. Default 1 s. */
  pollIntervalMs?: number;
  /** API calls in flight for destroy and status. Default 16. */
  concurrency?: number;
}

interface ManagedInstance {
  name: string;
  zone: string;
  id: string;
  status: string;
  labels: Record<string, string>;
}

/** Client options from `gcp.apiEndpoint` (private endpoints, local fakes) plus the credentials. */
export async function computeClientOptions(gcp: GcpConfig, credentials?: 'adc' | 'none'): Promise<ClientOptions> {
  const options: ClientOptions = {};
  if (gcp.apiEndpoint) {
    const url = new URL(gcp.apiEndpoint);
    const protocol = url.protocol.replace(/:$/, '');
    if (protocol !== 'http' && protocol !== 'https') throw new ConfigError(`gcp.apiEndpoint must be an http(s) URL, got ${gcp.apiEndpoint}`);
    Object.assign(options, { apiEndpoint: url.hostname, port: Number(url.port) || (protocol === 'http' ? 80 : 443), protocol });
  }
  const mode = credentials ?? (gcp.apiEndpoint?.startsWith('http:') ? 'none' : 'adc');
  if (mode === 'none') {
    const { PassThroughClient } = await import('google-auth-library');
    // google-gax bundles its own google-auth-library copy: the same class at run time, another type.
    options.authClient = new PassThroughClient() as unknown as ClientOptions['authClient'];
  }
  return options;
}

/**
 * Stop waiting on a call when the signal fires, and cancel its HTTP request: `wait` can block for
 * up to two minutes, and Ctrl-C must get to the cleanup at once (an open request would also keep
 * the process alive).
 */
function untilAborted<T>(call: CancellableCall<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return call;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      call.cancel?.();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The zone an `unreachables` entry names: `zones/us-central1-b` or a longer resource path. */
function zoneOfScope(scope: string): string | undefined {
  return /(?:^|\/)zones\/([^/]+)$/.exec(scope)?.[1];
}

export async function createGcpProvider(config: AgentiumConfig, deps: GcpProviderDeps = {}): Promise<CloudProvider> {
  if (!config.gcp) throw new ConfigError('provider gcp needs a "gcp" section', { hint: 'set gcp.project (and gcp.zones) in .agentium.yaml' });
  const gcp: GcpConfig = config.gcp;
  const clientOptions = await computeClientOptions(gcp, deps.credentials);
  const compute = await import('@google-cloud/compute');
  const instances: InstancesClient = new compute.InstancesClient(clientOptions);
  const operations: ZoneOperationsClient = new compute.ZoneOperationsClient(clientOptions);

  const project = gcp.project;
  const configuredZones = new Set(gcp.zones);
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...deps.retry };
  const operationTimeoutMs = deps.operationTimeoutMs ?? 600_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const defaultConcurrency = deps.concurrency ?? 16;
  const retry = <T>(call: () => Promise<T>, signal?: AbortSignal) => withRetry(call, policy, signal);

  /** `wait` returns after at most ~2 minutes and does not throw when the operation failed. */
  async function waitForOperation(zone: string, name: string, signal?: AbortSignal): Promise<Operation> {
    const started = Date.now();
    for (;;) {
      const polled = Date.now();
      const [operation] = await retry(() => untilAborted(operations.wait({ project, zone, operation: name }), signal), signal);
      if (String(operation.status) === 'DONE') return operation;
      if (Date.now() - started > operationTimeoutMs) {
        throw new AgentiumError('failure', `operation ${name} in ${zone} is still ${String(operation.status)} after ${Math.round(operationTimeoutMs / 1000)} s`);
      }
      signal?.throwIfAborted();
      const pause = pollIntervalMs - (Date.now() - polled);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The wrapper's own `name` is the numeric id; the operation name is in latestResponse. */
  function operationName(wrapper: { latestResponse: unknown }): string {
    const name = (wrapper.latestResponse as Operation | undefined)?.name;
    if (!name) throw new AgentiumError('failure', 'the Compute API returned an operation without a name');
    return name;
  }

  /**
   * Ask for a deletion: the operation's name, or 'already-gone' when the instance does not exist.
   * `invocation` is new per destroy run (and per cleanup): retries inside one run reuse the request
   * id, but a rerun after a failed delete must not be answered with the stored failed operation.
   */
  async function startDelete(zone: string, name: string, id: string, invocation: string, signal?: AbortSignal): Promise<string | 'already-gone'> {
    try {
      const requestId = requestIdFor('delete', project, zone, name, id, invocation);
      const [wrapper] = await retry(() => instances.delete({ project, zone, instance: name, requestId }), signal);
      return operationName(wrapper);
    } catch (error) {
      if (classifyGcpError(error).class === 'not_found') return 'already-gone';
      throw normaliseGcpError(error, `deleting ${name} in ${zone}`);
    }
  }

  /** Wait for a deletion to finish; 'already-gone' when the instance vanished meanwhile. */
  async function finishDelete(zone: string, name: string, operation: string, signal?: AbortSignal): Promise<'deleted' | 'already-gone'> {
    try {
      const failed = operationError(await waitForOperation(zone, operation, signal));
      if (failed?.class === 'not_found' || failed?.reasons.includes('RESOURCE_NOT_FOUND')) return 'already-gone';
      if (failed) throw toGcpAgentiumError(failed, `deleting ${name} in ${zone}`);
      return 'deleted';
    } catch (error) {
      throw normaliseGcpError(error, `deleting ${name} in ${zone}`);
    }
  }

  /** Used by the cleanup after a failed create, never aborted: it is what an abort relies on. */
  async function deleteInstance(zone: string, name: string, id: string): Promise<'deleted' | 'already-gone'> {
    const operation = await startDelete(zone, name, id, randomUUID());
    return operation === 'already-gone' ? operation : finishDelete(zone, name, operation);
  }

  /** The instance named after this session, if it exists and carries this session's label. */
  async function findOwn(zone: string, spec: SessionSpec, signal?: AbortSignal): Promise<Instance | undefined> {
    try {
      const [instance] = await retry(() => instances.get({ project, zone, instance: spec.id }), signal);
      const labels = instance.labels ?? {};
      return labels[managedLabel] === 'true' && labels[sessionLabel] === gcpLabelValue(spec.id) ? instance : undefined;
    } catch (error) {
      if (classifyGcpError(error).class === 'not_found') return undefined;
      throw error;
    }
  }

  /** After a failed create: delete whatever of this session exists in the zone. */
  async function cleanUp(zone: string, spec: SessionSpec, cause: GcpErrorInfo | unknown): Promise<void> {
    try {
      const own = await findOwn(zone, spec);
      if (own) await deleteInstance(zone, spec.id, String(own.id ?? ''));
    } catch (error) {
      throw new AgentiumError('failure', `creating ${spec.id} in ${zone} failed and the half-created instance could not be deleted: ${normaliseGcpError(error, 'delete').message}`, {
        hint: `run: agentium destroy ${spec.id}`,
        details: { zone, instance: spec.id },
        cause,
      });
    }
  }

  type Attempt = { ok: true } | { ok: false; error: GcpErrorInfo };

  async function attempt(plan: LaunchPlan, zone: string, spot: boolean, signal?: AbortSignal): Promise<Attempt> {
    const { spec, userData } = plan;
    const requestId = insertRequestId(project, spec.id, zone, spot);
    const request = buildGcpInsertRequest(spec, gcp, { zone, spot, userData, requestId });
    let accepted = false;
    try {
      const [wrapper] = await retry(() => instances.insert(request), signal);
      accepted = true;
      const failed = operationError(await waitForOperation(zone, operationName(wrapper), signal));
      // Aborted while the last poll was answered DONE: still a cancelled launch, so clean up.
      signal?.throwIfAborted();
      if (!failed) return { ok: true };
      await cleanUp(zone, spec, failed);
      return { ok: false, error: failed };
    } catch (error) {
      if (error instanceof AgentiumError && !accepted) throw error;
      const info = classifyGcpError(error);
      // A rerun of the same session (another request id) finds its own instance: that is success.
      if (info.class === 'already_exists' && (await findOwn(zone, spec, signal))) return { ok: true };
      if (accepted || info.class !== 'already_exists') await cleanUp(zone, spec, error);
      if (error instanceof AgentiumError) throw error;
      return { ok: false, error: info };
    }
  }

  async function launch(plan: LaunchPlan, options: ProviderOptions = {}): Promise<LaunchedSession> {
    const { spec } = plan;
    const progress = options.onProgress ?? (() => {});
    const pricing = config.session.spot ? (config.session.onDemandFallback ? [true, false] : [true]) : [false];
    const noCapacity: Array<{ zone: string; spot: boolean; reason: string }> = [];
    for (const spot of pricing) {
      for (const zone of gcp.zones) {
        options.signal?.throwIfAborted();
        progress(`creating ${spec.id} in ${zone} (${spot ? 'spot' : 'on-demand'})`);
        const result = await attempt(plan, zone, spot, options.signal);
        if (result.ok) return { sessionId: spec.id, instance: spec.id, location: zone, spot };
        if (result.error.class !== 'capacity') throw toGcpAgentiumError(result.error, `creating ${spec.id} in ${zone}`);
        noCapacity.push({ zone, spot, reason: [...result.error.reasons, result.error.message].join(': ') });
        progress(`no ${spot ? 'spot ' : ''}capacity in ${zone} (${result.error.reasons.join(', ') || result.error.message})`);
      }
      if (spot && pricing.length > 1) progress('no spot capacity in any configured zone: retrying on demand');
    }
    const tried = pricing.map((spot) => (spot ? 'spot' : 'on-demand')).join(' then ');
    throw new CapacityError(`no ${tried} capacity for ${gcp.machineType} in ${gcp.zones.join(', ')}`, {
      hint: config.session.spot && !config.session.onDemandFallback
        ? 'set session.onDemandFallback: true, add zones to gcp.zones, or try again later'
        : 'add zones to gcp.zones, pick another gcp.machineType, or try again later',
      details: { attempts: noCapacity },
    });
  }

  /**
   * Every instance carrying the managed label in the configured zones, over all pages, and the
   * configured zones that did not answer. Compute reports those two ways: a per-zone UNREACHABLE
   * warning and, with returnPartialSuccess, the response's top-level `unreachables`; both count.
   */
  async function listManaged(signal?: AbortSignal): Promise<{ found: ManagedInstance[]; unreachable: UnreachableLocation[] }> {
    const found: ManagedInstance[] = [];
    const unreachable = new Map<string, string>();
    const markUnreachable = (zone: string | undefined, reason: string) => {
      if (zone !== undefined && configuredZones.has(zone) && !unreachable.has(zone)) unreachable.set(zone, reason);
    };
    // innerApiCalls is the client's public page call: unlike aggregatedListAsync it keeps the raw response.
    await instances.initialize(); // fills innerApiCalls (the client's other methods do this themselves)
    const pageOf = instances.innerApiCalls.aggregatedList as unknown as (request: AggregatedListRequest, options: { autoPaginate: false }) => CancellableCall<AggregatedPage>;
    let request: AggregatedListRequest | null = { project, filter: `labels.${managedLabel} = "true"`, returnPartialSuccess: true, maxResults: 500 };
    while (request) {
      const current: AggregatedListRequest = request;
      const [items, next, response] = await retry(() => untilAborted(pageOf(current, { autoPaginate: false }), signal), signal);
      for (const scope of response.unreachables ?? []) markUnreachable(zoneOfScope(scope), 'listed in the response\'s unreachables');
      for (const [scope, scoped] of Object.entries(items ?? {})) {
        const zone = zoneOfScope(scope);
        if (zone === undefined || !configuredZones.has(zone)) continue;
        if (String(scoped.warning?.code ?? '') === 'UNREACHABLE') markUnreachable(zone, scoped.warning?.message ?? 'UNREACHABLE');
        for (const instance of scoped.instances ?? []) {
          const labels = instance.labels ?? {};
          // Checked again here: a filter an endpoint ignored must never widen what destroy touches.
          if (labels[managedLabel] !== 'true' || !instance.name) continue;
          found.push({ name: instance.name, zone, id: String(instance.id ?? ''), status: String(instance.status ?? 'unknown'), labels });
        }
      }
      request = next?.pageToken ? next : null;
    }
    return { found, unreachable: [...unreachable].sort(([a], [b]) => a.localeCompare(b)).map(([location, reason]) => ({ location, reason })) };
  }

  async function phaseOf(instance: ManagedInstance, progress: (message: string) => void, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const [attributes] = await retry(
        () => instances.getGuestAttributes({ project, zone: instance.zone, instance: instance.name, queryPath: guestAttributeQueryPath }),
        signal,
      );
      const item = (attributes.queryValue?.items ?? []).find((entry) => entry.namespace === guestAttributeNamespace && entry.key === phaseKey);
      return item?.value ?? undefined;
    } catch (error) {
      const info = classifyGcpError(error);
      // No attribute yet (the controller has not reported) is answered with 404.
      if (info.class !== 'not_found') progress(`warning: could not read the phase of ${instance.name}: ${info.message}`);
      return undefined;
    }
  }

  async function list(options: ProviderOptions = {}): Promise<SessionList> {
    const progress = options.onProgress ?? (() => {});
    const { found, unreachable } = await listManaged(options.signal).catch((error: unknown) => {
      throw normaliseGcpError(error, 'listing agentium instances');
    });
    const phases = await mapWithConcurrency(found, defaultConcurrency, (instance) => phaseOf(instance, progress, options.signal));
    const sessions = found.map((instance, index) => {
      const issue = Number(instance.labels[issueLabel]);
      const deadline = Number(instance.labels[deadlineLabel]);
      return {
        sessionId: instance.labels[sessionLabel] ?? instance.name,
        instance: instance.name,
        location: instance.zone,
        state: instance.status.toLowerCase(),
        phase: phases[index],
        // Label values are lower-cased with `/` → `_` (labels.ts): the repo here is that form.
        repo: instance.labels[repoLabel],
        issue: Number.isSafeInteger(issue) && issue > 0 ? issue : undefined,
        deadline: Number.isFinite(deadline) && deadline > 0 ? new Date(deadline * 1000).toISOString() : undefined,
      };
    });
    return { sessions, unreachable };
  }

  async function destroy(target: string[] | 'all', options: ProviderOptions & { concurrency?: number } = {}): Promise<DestroyResult[]> {
    const progress = options.onProgress ?? (() => {});
    const { found, unreachable } = await listManaged(options.signal).catch((error: unknown) => {
      throw normaliseGcpError(error, 'listing agentium instances');
    });
    const invocation = randomUUID();
    const wanted = target === 'all' ? undefined : new Set(target);
    const sessionOf = (instance: ManagedInstance) => instance.labels[sessionLabel] ?? instance.name;
    const selected = wanted ? found.filter((instance) => wanted.has(sessionOf(instance)) || wanted.has(instance.name)) : found;
    const concurrency = options.concurrency ?? defaultConcurrency;
    if (selected.length > 0) progress(`deleting ${selected.length} instance(s) in ${new Set(selected.map((i) => i.zone)).size} zone(s), ${concurrency} at a time`);

    // Two phases: every deletion is requested first, then awaited. Compute deletes in parallel
    // server-side, so the kill switch takes about one deletion's time, not one per batch.
    const failed = (base: Omit<DestroyResult, 'outcome'>, error: unknown): DestroyResult => {
      const message = normaliseGcpError(error, `deleting ${base.instance}`).message;
      progress(`failed: ${base.instance} (${base.location}): ${message}`);
      return { ...base, outcome: 'failed', error: message };
    };
    const requested = await mapWithConcurrency(selected, concurrency, async (instance) => {
      const base = { sessionId: sessionOf(instance), instance: instance.name, location: instance.zone };
      try {
        return { base, operation: await startDelete(instance.zone, instance.name, instance.id, invocation, options.signal) };
      } catch (error) {
        return { base, result: failed(base, error) };
      }
    });
    const results = await mapWithConcurrency(requested, concurrency, async ({ base, operation, result }): Promise<DestroyResult> => {
      if (result) return result;
      try {
        const outcome = operation === 'already-gone' || operation === undefined ? 'already-gone' : await finishDelete(base.location, base.instance, operation, options.signal);
        progress(`${outcome === 'deleted' ? 'deleted' : 'already gone'}: ${base.instance} (${base.location})`);
        return { ...base, outcome };
      } catch (error) {
        return failed(base, error);
      }
    });

    if (wanted) {
      const matched = new Set(selected.flatMap((instance) => [sessionOf(instance), instance.name]));
      for (const id of wanted) if (!matched.has(id)) results.push(notFoundResult(id, unreachable));
    }
    results.push(...unreachableResults(unreachable, 'zone'));
    return results;
  }

  return { name: 'gcp', launch, list, destroy };
}
