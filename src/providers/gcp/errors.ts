/**
 * The one place where Compute errors become Agentium errors. Compute REST errors arrive
 * HTTP-shaped (`code: 404`, the raw JSON body as the message); newer client releases may carry
 * gRPC codes (5, 6, 8…); a failed operation does not throw at all but carries `error.errors[]`.
 * All three are classified here, then mapped to one error type with one exit code.
 */
import { AgentiumError, AuthError, CapacityError, ConfigError, NotFoundError } from '../../errors.js';

export type GcpErrorClass = 'capacity' | 'not_found' | 'already_exists' | 'auth' | 'throttled' | 'unavailable' | 'invalid' | 'failure';

export interface GcpErrorInfo {
  class: GcpErrorClass;
  /** HTTP status or gRPC code as received. */
  status: number | undefined;
  /** Reasons (`rateLimitExceeded`) or operation error codes (`ZONE_RESOURCE_POOL_EXHAUSTED`). */
  reasons: string[];
  message: string;
}

/** Stockouts and quota: worth trying another zone or on-demand capacity. */
const capacityReason = /RESOURCE_POOL_EXHAUSTED|QUOTA_EXCEEDED|quotaExceeded|STOCKOUT|RESOURCE_NOT_AVAILABLE|resourceExhausted/i;
const capacityMessage = /does not have enough resources|resource pool exhausted|stockout|quota .* exceeded/i;

interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  errors?: Array<{ reason?: string; message?: string }>;
}

interface OperationLike {
  error?: { errors?: Array<{ code?: string | null; message?: string | null }> | null } | null;
  httpErrorStatusCode?: number | null;
  httpErrorMessage?: string | null;
}

/** Classify an exception thrown by a client call. */
export function classifyGcpError(error: unknown): GcpErrorInfo {
  const raw = (error ?? {}) as { code?: unknown; status?: unknown; message?: unknown; response?: { data?: unknown } };
  const body = googleErrorBody(raw.message) ?? googleErrorBody((raw.response?.data as { error?: unknown } | undefined)?.error);
  const status = typeof raw.code === 'number' ? raw.code : typeof raw.status === 'number' ? raw.status : body?.code;
  const reasons = (body?.errors ?? []).map((e) => e.reason ?? '').filter(Boolean);
  if (body?.status) reasons.push(body.status);
  const message = body?.message ?? (typeof raw.message === 'string' ? raw.message : String(error));
  return { class: classOf(status, reasons, message), status, reasons, message };
}

/** Classify a finished operation; undefined when it succeeded (`wait` does not throw on failure). */
export function operationError(operation: OperationLike): GcpErrorInfo | undefined {
  const errors = operation.error?.errors ?? [];
  if (errors.length === 0) return undefined;
  const reasons = errors.map((e) => e.code ?? '').filter(Boolean);
  const message = errors.map((e) => e.message ?? e.code ?? '').join('; ') || (operation.httpErrorMessage ?? 'operation failed');
  const status = operation.httpErrorStatusCode ?? undefined;
  const cls = classOf(status, reasons, message);
  // A failed operation was accepted by the API: retrying the same request would not help.
  return { class: cls === 'throttled' || cls === 'unavailable' ? 'failure' : cls, status, reasons, message };
}

function classOf(status: number | undefined, reasons: string[], message: string): GcpErrorClass {
  // Google APIs also answer 403 rateLimitExceeded / userRateLimitExceeded: a throttle, not a denial.
  if (reasons.some((r) => /rateLimitExceeded/i.test(r))) return 'throttled';
  if (reasons.some((r) => capacityReason.test(r)) || capacityMessage.test(message)) return 'capacity';
  if (status === undefined) return 'failure';
  if (status >= 100) {
    if (status === 400) return 'invalid';
    if (status === 401 || status === 403) return 'auth';
    if (status === 404) return 'not_found';
    if (status === 409) return 'already_exists';
    if (status === 429) return 'throttled';
    if (status === 500 || status === 502 || status === 503 || status === 504) return 'unavailable';
    return 'failure';
  }
  // gRPC status codes.
  const grpc: Record<number, GcpErrorClass> = { 3: 'invalid', 4: 'unavailable', 5: 'not_found', 6: 'already_exists', 7: 'auth', 8: 'throttled', 14: 'unavailable', 16: 'auth' };
  return grpc[status] ?? 'failure';
}

function googleErrorBody(value: unknown): GoogleErrorBody | undefined {
  if (typeof value === 'object' && value !== null) return value as GoogleErrorBody;
  if (typeof value !== 'string' || !value.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(value) as { error?: GoogleErrorBody };
    return typeof parsed.error === 'object' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

export function isRetryable(info: GcpErrorInfo): boolean {
  return info.class === 'throttled' || info.class === 'unavailable';
}

/** Map a classified error to the one Agentium error type (and so one exit code). */
export function toGcpAgentiumError(info: GcpErrorInfo, context: string): AgentiumError {
  const text = `${context}: ${info.message}${info.reasons.length ? ` (${[...new Set(info.reasons)].join(', ')})` : ''}`;
  const options = { details: { status: info.status, reasons: info.reasons } };
  switch (info.class) {
    case 'capacity':
      return new CapacityError(text, { ...options, hint: 'add zones to gcp.zones, set session.onDemandFallback: true, or try again later' });
    case 'throttled':
      return new CapacityError(text, { ...options, hint: 'the Compute API is rate limiting this project; try again in a minute' });
    case 'not_found':
      return new NotFoundError(text, options);
    case 'auth':
      return new AuthError(text, {
        ...options,
        hint: 'check Application Default Credentials (gcloud auth application-default login) and the roles in docs/providers/gcp.md',
      });
    case 'invalid':
      return new ConfigError(text, { ...options, hint: 'check the gcp section of .agentium.yaml (project, zones, machineType, image, network)' });
    default:
      return new AgentiumError('failure', text, options);
  }
}

/** Classify and map in one step, for `catch` blocks. */
export function normaliseGcpError(error: unknown, context: string): AgentiumError {
  if (error instanceof AgentiumError) return error;
  return toGcpAgentiumError(classifyGcpError(error), context);
}
