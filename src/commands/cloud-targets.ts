/**
 * Which clouds a session command talks to. `--provider` names one; otherwise every cloud that has a
 * section in the config, so the kill switch (`destroy --all`) reaches every configured cloud.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { AgentiumConfig, ProviderName } from '../config/schema.js';
import { ConfigError, toAgentiumError, UsageError, type AgentiumError } from '../errors.js';
import type { CloudProvider } from '../providers/types.js';

export interface CloudCommandOptions {
  provider?: ProviderName;
  config: string;
  json?: boolean;
}

export async function loadCloudProviders(options: CloudCommandOptions, command?: Command): Promise<CloudProvider[]> {
  if (options.provider === 'local') {
    throw new UsageError('local sessions run in the foreground: there are no instances to list or delete', {
      hint: 'stop a local session with Ctrl-C; use --provider gcp or aws for cloud sessions',
    });
  }
  const { config } = loadConfig({
    path: options.config,
    mustExist: command?.getOptionValueSource('config') === 'cli',
    flags: [{ flag: '--provider', path: ['provider'], value: options.provider }],
  });
  const names = cloudsOf(config, options.provider);
  const { loadProvider } = await import('../providers/index.js');
  return Promise.all(names.map((name) => loadProvider(name, config)));
}

/** One cloud's answer: its value, or the error it failed with. */
export interface CloudOutcome<T> {
  provider: CloudProvider['name'];
  value?: T;
  error?: AgentiumError;
}

/**
 * One call per cloud, every outcome kept: one cloud's failure must not hide the others' results.
 * With a single cloud its error is simply thrown, so it keeps its own message and exit code.
 */
export async function settleEachCloud<T>(providers: readonly CloudProvider[], call: (provider: CloudProvider) => Promise<T>): Promise<Array<CloudOutcome<T>>> {
  const settled = await Promise.allSettled(providers.map((provider) => call(provider)));
  if (settled.length === 1 && settled[0]?.status === 'rejected') throw settled[0].reason;
  return providers.map(({ name: provider }, index) => {
    const outcome = settled[index] as PromiseSettledResult<T>;
    return outcome.status === 'fulfilled' ? { provider, value: outcome.value } : { provider, error: toAgentiumError(outcome.reason) };
  });
}

function cloudsOf(config: AgentiumConfig, chosen: ProviderName | undefined): Array<Exclude<ProviderName, 'local'>> {
  if (chosen === 'gcp' || chosen === 'aws') {
    if (!config[chosen]) throw new ConfigError(`provider ${chosen} needs a "${chosen}" section in the config`);
    return [chosen];
  }
  const configured = (['gcp', 'aws'] as const).filter((name) => config[name] !== undefined);
  if (configured.length === 0) {
    throw new ConfigError('no cloud is configured: add a "gcp" or "aws" section, or pass --provider', {
      hint: 'e.g. AGENTIUM_GCP_PROJECT=my-project agentium status',
    });
  }
  return configured;
}
