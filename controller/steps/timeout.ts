/**
 * Every final step (report, revoke, terminate) is awaited with its own timeout, so one hung call
 * cannot keep the next from running (LESSONS: fatal errors returned before cleanup ran).
 */
import { AgentiumError } from '../../src/errors.js';

export async function withTimeout<T>(name: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentiumError('failure', `${name} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
