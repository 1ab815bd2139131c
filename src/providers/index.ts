/**
 * The provider registry: each cloud is a lazy factory, so `@google-cloud/compute` or
 * `@aws-sdk/client-ec2` is imported only when a command really talks to that cloud.
 */
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { CloudProvider, ProviderFactory } from './types.js';

const factories: Record<Exclude<ProviderName, 'local'>, ProviderFactory> = {
  gcp: async (config) => (await import('./gcp/provider.js')).createGcpProvider(config),
  aws: async (config) => (await import('./aws/provider.js')).createAwsProvider(config),
};

export async function loadProvider(name: ProviderName, config: AgentiumConfig): Promise<CloudProvider> {
  if (name === 'local') {
    throw new UsageError('the local provider runs sessions in the foreground and has no instances to list or destroy', {
      hint: 'use --provider gcp or --provider aws',
    });
  }
  const factory = factories[name];
  if (!factory) throw new UsageError(`unknown provider "${String(name)}" (expected gcp or aws)`);
  return factory(config);
}
