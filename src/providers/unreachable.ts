/**
 * What `destroy` reports for places it could not list, the same for every cloud: a zone or region
 * that did not answer may still hold instances, so the run must not end as a success.
 */
import type { DestroyResult, UnreachableLocation } from './types.js';

/** One failed row per unreachable zone/region (`sessionId: "*"`): destroy again to finish. */
export function unreachableResults(unreachable: readonly UnreachableLocation[], kind: 'zone' | 'region'): DestroyResult[] {
  return unreachable.map(({ location, reason }) => ({
    sessionId: '*',
    instance: '*',
    location,
    outcome: 'failed',
    error: `${kind} ${location} was unreachable (${reason}): its instances could not be listed; run destroy again`,
  }));
}

/** A named session that was not found is only "already gone" when every place could be searched. */
export function notFoundResult(sessionId: string, unreachable: readonly UnreachableLocation[]): DestroyResult {
  if (unreachable.length === 0) return { sessionId, instance: '', location: '', outcome: 'already-gone' };
  const places = unreachable.map((entry) => entry.location).join(', ');
  return { sessionId, instance: '', location: '', outcome: 'failed', error: `not found, but ${places} could not be listed` };
}
