/** Compute errors in all their shapes map to one Agentium error type and exit code. */
import { describe, expect, it } from 'vitest';
import { classifyGcpError, normaliseGcpError, operationError, toGcpAgentiumError } from '../../../src/providers/gcp/errors.js';

const http = (code: number, reason: string, message = 'm') => Object.assign(new Error(JSON.stringify({ error: { code, message, errors: [{ reason, message }] } })), { code });
const grpc = (code: number, message = 'm') => Object.assign(new Error(message), { code });

describe('normaliseGcpError', () => {
  it.each([
    ['HTTP 404', http(404, 'notFound'), 4],
    ['gRPC 5 NOT_FOUND', grpc(5), 4],
    ['HTTP 401', http(401, 'unauthorized'), 3],
    ['HTTP 403 forbidden', http(403, 'forbidden'), 3],
    ['gRPC 7 PERMISSION_DENIED', grpc(7), 3],
    ['HTTP 403 quotaExceeded', http(403, 'quotaExceeded'), 5],
    ['gRPC 8 RESOURCE_EXHAUSTED', grpc(8), 5],
    ['HTTP 429', http(429, 'rateLimitExceeded'), 5],
    ['HTTP 400', http(400, 'invalid'), 2],
    ['HTTP 409 / gRPC 6 ALREADY_EXISTS', grpc(6), 1],
    ['HTTP 503', http(503, 'backendError'), 1],
    ['a plain Error', new Error('socket hang up'), 1],
  ])('%s → exit %i', (_name, error, exitCode) => {
    expect(normaliseGcpError(error, 'ctx').exitCode).toBe(exitCode);
  });

  it('keeps the API message, not the raw JSON body', () => {
    const error = normaliseGcpError(http(404, 'notFound', "The resource 'x' was not found"), 'deleting x');
    expect(error.message).toBe("deleting x: The resource 'x' was not found (notFound)");
  });

  it('treats 403 rateLimitExceeded as a throttle (retryable), not a denial', () => {
    expect(classifyGcpError(http(403, 'userRateLimitExceeded')).class).toBe('throttled');
  });
});

describe('operationError', () => {
  it('is undefined for a successful operation', () => {
    expect(operationError({ error: null })).toBeUndefined();
    expect(operationError({})).toBeUndefined();
  });

  it.each(['ZONE_RESOURCE_POOL_EXHAUSTED', 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS', 'QUOTA_EXCEEDED'])('%s is capacity', (code) => {
    const info = operationError({ error: { errors: [{ code, message: 'no' }] }, httpErrorStatusCode: 503 });
    expect(info?.class).toBe('capacity');
    expect(toGcpAgentiumError(info!, 'creating').exitCode).toBe(5);
  });

  it('a failed operation with a 5xx status is not retried as if the call had failed', () => {
    expect(operationError({ error: { errors: [{ code: 'INTERNAL_ERROR', message: 'boom' }] }, httpErrorStatusCode: 500 })?.class).toBe('failure');
  });
});
