import type { FakeResponse } from '../http.js';

/** Google's JSON error envelope, as Compute and Secret Manager REST return it. */
export function googleError(status: number, message: string, reason: string, grpcStatus?: string): FakeResponse {
  return {
    status,
    body: { error: { code: status, message, errors: [{ message, domain: 'global', reason }], ...(grpcStatus ? { status: grpcStatus } : {}) } },
  };
}
