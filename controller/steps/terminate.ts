/**
 * Step 8c: delete this VM (the local cloud records the call). Awaited in the lifecycle's `finally`
 * with its own timeout — never a detached child that dies with the container (LESSONS).
 */
import type { ControllerCloud } from '../cloud/types.js';

export async function terminateSelf(cloud: ControllerCloud): Promise<void> {
  await cloud.terminateSelf();
}
