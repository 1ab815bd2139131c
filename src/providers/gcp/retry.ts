/**
 * Bounded retry with exponential backoff and full jitter for 429/5xx: the Compute client does
 * not retry those itself. Only safe calls go through it (reads, and writes carrying a requestId).
 */
import { classifyGcpError, isRetryable } from './errors.js';

export interface RetryPolicy {
  /** Total attempts, first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 16_000 };

export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(classifyGcpError(error))) throw error;
      signal?.throwIfAborted();
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}
