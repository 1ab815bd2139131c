/**
 * Compute request ids must be UUIDs. Deriving them (UUIDv5) from what the request is about makes
 * a retried call (same session, zone and pricing) reuse its id, so the API creates nothing twice.
 */
import { createHash } from 'node:crypto';

/** A fixed namespace for Agentium's v5 UUIDs. */
const namespace = Buffer.from('5c3f1b7e9a2d4c6f8e0b1a2c3d4e5f60', 'hex');

export function requestIdFor(...parts: string[]): string {
  const hash = createHash('sha1').update(namespace).update(parts.join('/')).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The requestId of one insert attempt (session × zone × pricing); the dry-run shows the first. */
export function insertRequestId(project: string, sessionId: string, zone: string, spot: boolean): string {
  return requestIdFor('insert', project, sessionId, zone, spot ? 'spot' : 'standard');
}
