/**
 * Picks the controller's cloud by `spec.provider`, importing only that implementation (the cloud
 * SDKs cost seconds to load; a local session loads none).
 */
import type { SessionSpec } from '../../src/session/spec.js';
import type { ControllerCloud } from './types.js';
import type { LocalCloudOptions } from './local.js';

export interface CloudSelection {
  /** Settings for the local implementation (state dir, secrets dir, key file). */
  local?: LocalCloudOptions;
}

export async function loadControllerCloud(spec: Pick<SessionSpec, 'provider'>, selection: CloudSelection = {}): Promise<ControllerCloud> {
  switch (spec.provider) {
    case 'local': {
      if (!selection.local) throw new Error('the local controller cloud needs a state directory');
      const { createLocalControllerCloud } = await import('./local.js');
      return createLocalControllerCloud(selection.local);
    }
    case 'aws': {
      const { createAwsControllerCloud } = await import('./aws.js');
      return createAwsControllerCloud();
    }
    case 'gcp': {
      const { createGcpControllerCloud } = await import('./gcp.js');
      return createGcpControllerCloud();
    }
  }
}
