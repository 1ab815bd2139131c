/**
 * A stateful fake of the Compute Engine REST API (v1), enough for the GCP provider and the
 * controller: instances insert/get/delete, aggregatedList (label filters, pages, unreachable
 * zones), getGuestAttributes, and zone operations that move PENDING → RUNNING → DONE.
 * The real `@google-cloud/compute` client talks to it over HTTP. Faults are injected by rules.
 */
import { randomUUID } from 'node:crypto';
import { startFakeServer, type FakeResponse, type FakeServer, type RecordedRequest } from '../http.js';
import { googleError } from './google-error.js';

export type ComputeCall = 'insert' | 'get' | 'delete' | 'aggregatedList' | 'getGuestAttributes' | 'wait' | 'getOperation';

/** An error answered on the HTTP call itself. */
export interface HttpFault {
  kind: 'http';
  status: number;
  reason: string;
  message: string;
}

/** The call is accepted; its operation ends DONE with this error (how stockouts surface). */
export interface OperationFault {
  kind: 'operation';
  code: string;
  message: string;
  httpStatus: number;
  /** Leave a half-created (TERMINATED) instance behind, as a failed create sometimes does. */
  leaveInstance?: boolean;
}

export interface FaultRule {
  call: ComputeCall;
  zone?: string;
  instance?: string;
  provisioningModel?: 'SPOT' | 'STANDARD';
  /** How many times the rule fires; default: always. */
  times?: number;
  fault: HttpFault | OperationFault;
}

export const faults = {
  capacity: (leaveInstance = false): OperationFault => ({
    kind: 'operation',
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    message: 'The zone does not have enough resources available to fulfill the request. Try a different zone, or try again later.',
    httpStatus: 503,
    leaveInstance,
  }),
  stockout: (): OperationFault => ({
    kind: 'operation',
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
    message: 'The zone does not have enough resources available to fulfill the request. (resource type:compute).',
    httpStatus: 503,
  }),
  quota: (): OperationFault => ({
    kind: 'operation',
    code: 'QUOTA_EXCEEDED',
    message: "Quota 'PREEMPTIBLE_CPUS' exceeded. Limit: 0.0 in region us-central1.",
    httpStatus: 403,
  }),
  quotaHttp: (): HttpFault => ({ kind: 'http', status: 403, reason: 'quotaExceeded', message: "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1." }),
  operationFailed: (code: string, message: string): OperationFault => ({ kind: 'operation', code, message, httpStatus: 400 }),
  notFound: (): HttpFault => ({ kind: 'http', status: 404, reason: 'notFound', message: 'The resource was not found' }),
  forbidden: (): HttpFault => ({ kind: 'http', status: 403, reason: 'forbidden', message: "Required 'compute.instances.create' permission" }),
  rateLimited: (): HttpFault => ({ kind: 'http', status: 429, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }),
  unavailable: (): HttpFault => ({ kind: 'http', status: 503, reason: 'backendError', message: 'Backend Error' }),
};

export interface FakeInstance {
  zone: string;
  name: string;
  id: string;
  status: string;
  labels: Record<string, string>;
  /** The instance resource as inserted (or seeded), plus server fields. */
  resource: Record<string, unknown>;
  guestAttributes: Map<string, string>;
}

interface FakeOperation {
  name: string;
  id: string;
  zone: string;
  operationType: 'insert' | 'delete';
  targetName: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  createdAt: number;
  fault?: OperationFault;
  /** Applied when the operation reaches DONE. */
  complete: () => void;
}

export interface FakeComputeOptions {
  project?: string;
  zones?: string[];
  latencyMs?: number;
  /** Zones listed as unreachable by aggregatedList. */
  unreachableZones?: string[];
  /**
   * How aggregatedList reports them: a per-zone UNREACHABLE warning, the top-level `unreachables`
   * (only with returnPartialSuccess, as in Compute), or both (default).
   */
  unreachableReport?: 'warning' | 'unreachables' | 'both';
  /** Largest page aggregatedList returns (maxResults may ask for less). */
  pageSize?: number;
  /** `wait` finishes the operation at once (like the real 2-minute wait) instead of one step per call. */
  waitCompletes?: boolean;
  /**
   * Model server-side duration instead of poll steps: an operation is DONE this long after it
   * was created, `wait` blocks until then (as the real one does, up to 2 minutes), `get` does not.
   */
  operationMs?: number;
}

export interface FakeCompute extends FakeServer {
  readonly project: string;
  readonly zones: string[];
  unreachableZones: Set<string>;
  /** Add a fault rule; rules are tried in the order added. */
  inject(rule: FaultRule): void;
  clearFaults(): void;
  seedInstance(input: { zone: string; name: string; labels?: Record<string, string>; status?: string }): FakeInstance;
  instances(): FakeInstance[];
  instance(zone: string, name: string): FakeInstance | undefined;
  /** Requests for one API call, in order. */
  calls(call: ComputeCall): RecordedRequest[];
}

const instanceName = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const labelKey = /^[a-z][a-z0-9_-]{0,62}$/;
const labelValue = /^[a-z0-9_-]{0,63}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function startFakeCompute(options: FakeComputeOptions = {}): Promise<FakeCompute> {
  const project = options.project ?? 'agentium-test';
  const zones = options.zones ?? ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];
  const pageSize = options.pageSize ?? 500;
  const store = new Map<string, FakeInstance>();
  const operations = new Map<string, FakeOperation>();
  const byRequestId = new Map<string, FakeOperation>();
  const rules: FaultRule[] = [];
  const unreachableZones = new Set(options.unreachableZones ?? []);
  const callOf = new WeakMap<RecordedRequest, ComputeCall>();
  let nextId = 1000;
  let base = '';

  const key = (zone: string, name: string) => `${zone}/${name}`;
  const zoneUrl = (zone: string) => `${base}/compute/v1/projects/${project}/zones/${zone}`;

  function takeFault(call: ComputeCall, zone: string | undefined, instance: string | undefined, model?: string) {
    const index = rules.findIndex(
      (rule) =>
        rule.call === call &&
        (rule.zone === undefined || rule.zone === zone) &&
        (rule.instance === undefined || rule.instance === instance) &&
        (rule.provisioningModel === undefined || rule.provisioningModel === model),
    );
    const rule = rules[index];
    if (!rule) return undefined;
    if (rule.times !== undefined && --rule.times <= 0) rules.splice(index, 1);
    return rule.fault;
  }

  function operationBody(op: FakeOperation): Record<string, unknown> {
    return {
      kind: 'compute#operation',
      id: op.id,
      name: op.name,
      zone: zoneUrl(op.zone),
      operationType: op.operationType,
      targetLink: `${zoneUrl(op.zone)}/instances/${op.targetName}`,
      status: op.status,
      progress: op.status === 'DONE' ? 100 : 0,
      selfLink: `${zoneUrl(op.zone)}/operations/${op.name}`,
      ...(op.status === 'DONE' && op.fault
        ? {
            error: { errors: [{ code: op.fault.code, message: op.fault.message }] },
            httpErrorStatusCode: op.fault.httpStatus,
            httpErrorMessage: op.fault.httpStatus === 503 ? 'SERVICE UNAVAILABLE' : 'FORBIDDEN',
          }
        : {}),
    };
  }

  function newOperation(zone: string, type: 'insert' | 'delete', target: string, complete: () => void, fault?: OperationFault) {
    const op: FakeOperation = {
      name: `operation-${Date.now()}-${randomUUID().slice(0, 8)}`,
      id: String(nextId++),
      zone,
      operationType: type,
      targetName: target,
      status: 'PENDING',
      createdAt: Date.now(),
      complete,
      ...(fault ? { fault } : {}),
    };
    operations.set(op.name, op);
    return op;
  }

  function advance(op: FakeOperation, toDone: boolean) {
    if (op.status === 'DONE') return;
    op.status = toDone || op.status === 'RUNNING' ? 'DONE' : 'RUNNING';
    if (op.status === 'DONE') op.complete();
  }

  function httpFault(fault: HttpFault): FakeResponse {
    return googleError(fault.status, fault.message, fault.reason);
  }

  function insert(zone: string, request: RecordedRequest): FakeResponse {
    const requestId = request.query.requestId;
    if (requestId !== undefined && !uuid.test(requestId)) return googleError(400, "Invalid value for field 'requestId': must be a UUID", 'invalid');
    const previous = requestId ? byRequestId.get(requestId) : undefined;
    if (previous) return { status: 200, body: operationBody(previous) };
    const body = request.json as Record<string, unknown> | undefined;
    const invalid = validateInstance(zone, body);
    if (invalid) return googleError(400, invalid, 'invalid');
    const resource = body as Record<string, unknown> & { name: string; labels?: Record<string, string> };
    const model = (resource.scheduling as { provisioningModel?: string } | undefined)?.provisioningModel ?? 'STANDARD';
    const fault = takeFault('insert', zone, resource.name, model);
    if (fault?.kind === 'http') return httpFault(fault);
    if (store.has(key(zone, resource.name))) {
      return googleError(409, `The resource 'projects/${project}/zones/${zone}/instances/${resource.name}' already exists`, 'alreadyExists');
    }
    const instance: FakeInstance = {
      zone,
      name: resource.name,
      id: String(nextId++),
      status: 'PROVISIONING',
      labels: { ...(resource.labels ?? {}) },
      resource,
      guestAttributes: new Map(),
    };
    if (!fault || fault.leaveInstance) store.set(key(zone, resource.name), instance);
    const op = newOperation(
      zone,
      'insert',
      resource.name,
      () => {
        instance.status = fault ? 'TERMINATED' : 'RUNNING';
      },
      fault,
    );
    if (requestId) byRequestId.set(requestId, op);
    return { status: 200, body: operationBody(op) };
  }

  function remove(zone: string, name: string, request: RecordedRequest): FakeResponse {
    const requestId = request.query.requestId;
    const previous = requestId ? byRequestId.get(requestId) : undefined;
    if (previous) return { status: 200, body: operationBody(previous) };
    const fault = takeFault('delete', zone, name);
    if (fault?.kind === 'http') return httpFault(fault);
    const instance = store.get(key(zone, name));
    if (!instance) return notFound(zone, name);
    const before = instance.status;
    instance.status = 'STOPPING';
    const operationFault = fault?.kind === 'operation' ? fault : undefined;
    // Like Compute: a delete operation that ends in an error leaves the instance where it was.
    const complete = () => (operationFault ? (instance.status = before) : store.delete(key(zone, name)));
    const op = newOperation(zone, 'delete', name, complete, operationFault);
    if (requestId) byRequestId.set(requestId, op);
    return { status: 200, body: operationBody(op) };
  }

  function notFound(zone: string, name: string): FakeResponse {
    return googleError(404, `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`, 'notFound');
  }

  function render(instance: FakeInstance): Record<string, unknown> {
    return {
      ...instance.resource,
      kind: 'compute#instance',
      id: instance.id,
      name: instance.name,
      zone: zoneUrl(instance.zone),
      status: instance.status,
      labels: instance.labels,
      selfLink: `${zoneUrl(instance.zone)}/instances/${instance.name}`,
      creationTimestamp: '2025-01-01T00:00:00.000-08:00',
    };
  }

  function aggregatedList(request: RecordedRequest): FakeResponse {
    const matches = parseFilter(request.query.filter);
    if (matches === 'invalid') return googleError(400, "Invalid value for field 'filter'", 'invalid');
    const reachable = [...store.values()]
      .filter((instance) => !unreachableZones.has(instance.zone) && matches(instance.labels))
      .sort((a, b) => (a.zone + a.name).localeCompare(b.zone + b.name));
    const limit = Math.min(pageSize, Number(request.query.maxResults ?? pageSize) || pageSize);
    const start = Number(request.query.pageToken ?? 0);
    const page = reachable.slice(start, start + limit);
    const items: Record<string, unknown> = {};
    for (const zone of zones) items[`zones/${zone}`] = { warning: { code: 'NO_RESULTS_ON_PAGE', message: 'There are no results for scope on this page.' } };
    for (const instance of page) {
      const scope = items[`zones/${instance.zone}`] as { instances?: unknown[] } | undefined;
      items[`zones/${instance.zone}`] = { instances: [...(scope?.instances ?? []), render(instance)] };
    }
    const report = options.unreachableReport ?? 'both';
    for (const zone of unreachableZones) {
      items[`zones/${zone}`] =
        report === 'unreachables' ? {} : { warning: { code: 'UNREACHABLE', message: `Scope 'zones/${zone}' is unreachable.` } };
    }
    return {
      status: 200,
      body: {
        kind: 'compute#instanceAggregatedList',
        items,
        ...(start + limit < reachable.length ? { nextPageToken: String(start + limit) } : {}),
        ...(report !== 'warning' && request.query.returnPartialSuccess === 'true' && unreachableZones.size > 0 ? { unreachables: [...unreachableZones].map((z) => `zones/${z}`) } : {}),
      },
    };
  }

  function guestAttributes(zone: string, name: string, request: RecordedRequest): FakeResponse {
    const instance = store.get(key(zone, name));
    if (!instance) return notFound(zone, name);
    const queryPath = request.query.queryPath ?? '';
    const items = [...instance.guestAttributes]
      .filter(([path]) => path.startsWith(queryPath))
      .map(([path, value]) => {
        const [namespace = '', ...rest] = path.split('/');
        return { namespace, key: rest.join('/'), value };
      });
    if (items.length === 0) return googleError(404, `The resource 'guestAttributes/${queryPath}' was not found`, 'notFound');
    return { status: 200, body: { kind: 'compute#guestAttributes', queryPath, queryValue: { items }, selfLink: `${zoneUrl(zone)}/instances/${name}/guestAttributes` } };
  }

  const routes: Array<{ method: string; pattern: RegExp; call: ComputeCall; handle: (m: string[], r: RecordedRequest) => FakeResponse | Promise<FakeResponse> }> = [
    { method: 'POST', pattern: /^\/zones\/([^/]+)\/instances$/, call: 'insert', handle: ([zone = ''], r) => insert(zone, r) },
    {
      method: 'GET',
      pattern: /^\/zones\/([^/]+)\/instances\/([^/]+)$/,
      call: 'get',
      handle: ([zone = '', name = '']) => {
        const instance = store.get(key(zone, name));
        return instance ? { status: 200, body: render(instance) } : notFound(zone, name);
      },
    },
    { method: 'DELETE', pattern: /^\/zones\/([^/]+)\/instances\/([^/]+)$/, call: 'delete', handle: ([zone = '', name = ''], r) => remove(zone, name, r) },
    { method: 'GET', pattern: /^\/zones\/([^/]+)\/instances\/([^/]+)\/getGuestAttributes$/, call: 'getGuestAttributes', handle: ([zone = '', name = ''], r) => guestAttributes(zone, name, r) },
    { method: 'GET', pattern: /^\/aggregated\/instances$/, call: 'aggregatedList', handle: (_m, r) => aggregatedList(r) },
    { method: 'POST', pattern: /^\/zones\/([^/]+)\/operations\/([^/]+)\/wait$/, call: 'wait', handle: ([zone = '', name = '']) => operation(zone, name, true) },
    { method: 'GET', pattern: /^\/zones\/([^/]+)\/operations\/([^/]+)$/, call: 'getOperation', handle: ([zone = '', name = '']) => operation(zone, name, false) },
  ];

  async function operation(zone: string, name: string, isWait: boolean): Promise<FakeResponse> {
    const op = operations.get(name);
    if (!op || op.zone !== zone) return googleError(404, `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`, 'notFound');
    if (options.operationMs === undefined) {
      advance(op, isWait && options.waitCompletes === true);
    } else {
      const remaining = op.createdAt + options.operationMs - Date.now();
      if (isWait && remaining > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, 120_000)));
      if (op.createdAt + options.operationMs <= Date.now()) advance(op, true);
      else if (op.status === 'PENDING') op.status = 'RUNNING';
    }
    return { status: 200, body: operationBody(op) };
  }

  const server: FakeServer = await startFakeServer(
    (request) => {
      const prefix = `/compute/v1/projects/${project}`;
      if (!request.path.startsWith(prefix)) return googleError(404, `unknown project or path ${request.path}`, 'notFound');
      const rest = request.path.slice(prefix.length);
      for (const route of routes) {
        const match = route.pattern.exec(rest);
        if (!match || route.method !== request.method) continue;
        callOf.set(request, route.call);
        const [zone, name] = match.slice(1);
        if (zone !== undefined && route.call !== 'aggregatedList' && !zones.includes(zone)) {
          return googleError(400, `Invalid value for field 'zone': '${zone}'. Unknown zone.`, 'invalid');
        }
        if (route.call !== 'insert' && route.call !== 'delete') {
          const fault = takeFault(route.call, zone, name);
          if (fault?.kind === 'http') return httpFault(fault);
        }
        return route.handle(match.slice(1), request);
      }
      return googleError(404, `no such method ${request.method} ${request.path}`, 'notFound');
    },
    { latencyMs: options.latencyMs ?? 0 },
  );
  base = server.url;

  // The server's own url, port, requests, latency and close; the Compute-specific parts added.
  return Object.assign(server, {
    project,
    zones,
    unreachableZones,
    inject: (rule: FaultRule) => void rules.push({ ...rule }),
    clearFaults: () => void rules.splice(0),
    seedInstance: ({ zone, name, labels = {}, status = 'RUNNING' }: { zone: string; name: string; labels?: Record<string, string>; status?: string }) => {
      const instance: FakeInstance = { zone, name, id: String(nextId++), status, labels, resource: { name, labels }, guestAttributes: new Map() };
      store.set(key(zone, name), instance);
      return instance;
    },
    instances: () => [...store.values()],
    instance: (zone: string, name: string) => store.get(key(zone, name)),
    calls: (call: ComputeCall) => server.requests.filter((request) => callOf.get(request) === call),
  });
}

/** The subset of Compute's list filter syntax the provider uses: `labels.k = "v"` terms, ANDed. */
function parseFilter(filter: string | undefined): ((labels: Record<string, string>) => boolean) | 'invalid' {
  if (!filter) return () => true;
  const term = /\(?\s*labels\.([a-z][a-z0-9_-]*)\s*(=|!=)\s*(?:"([^"]*)"|([a-z0-9_-]+))\s*\)?/gy;
  const checks: Array<(labels: Record<string, string>) => boolean> = [];
  let rest = filter.trim();
  while (rest.length > 0) {
    term.lastIndex = 0;
    const match = term.exec(rest);
    if (!match) return 'invalid';
    const [whole, name = '', op, quoted, bare] = match;
    const value = quoted ?? bare ?? '';
    checks.push((labels) => (labels[name] === value) === (op === '='));
    rest = rest.slice(whole.length).replace(/^\s*(AND\s+)?/, '');
  }
  return (labels) => checks.every((check) => check(labels));
}

/** A few of the checks the real API does, so a malformed request fails here as it would there. */
function validateInstance(zone: string, body: Record<string, unknown> | undefined): string | undefined {
  if (!body || typeof body.name !== 'string' || !instanceName.test(body.name)) return "Invalid value for field 'resource.name'";
  const labels = (body.labels ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(labels)) {
    if (!labelKey.test(k) || typeof v !== 'string' || !labelValue.test(v)) return `Invalid value for field 'resource.labels': '${k}'`;
  }
  if (typeof body.machineType !== 'string' || !body.machineType.includes(`zones/${zone}/machineTypes/`)) {
    return "Invalid value for field 'resource.machineType': must name a machine type in the request's zone";
  }
  const scheduling = (body.scheduling ?? {}) as { maxRunDuration?: { seconds?: unknown }; instanceTerminationAction?: unknown };
  if (scheduling.maxRunDuration) {
    const seconds = Number(scheduling.maxRunDuration.seconds);
    if (typeof scheduling.maxRunDuration.seconds !== 'string' || !(seconds >= 30 && seconds <= 120 * 86_400)) {
      return "Invalid value for field 'resource.scheduling.maxRunDuration.seconds'";
    }
    if (!scheduling.instanceTerminationAction) return "'resource.scheduling.instanceTerminationAction' is required with maxRunDuration";
  }
  return undefined;
}
