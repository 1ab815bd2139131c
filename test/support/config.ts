import { parseConfig, type AgentiumConfig, type AgentiumConfigInput } from '../../src/config/schema.js';

/** The minimal configs DESIGN §3 promises are enough for `run --dry-run`. */
export const minimalConfigs = {
  gcp: { provider: 'gcp', repo: 'acme/widgets', github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' }, gcp: { project: 'acme-agents' } },
  aws: { provider: 'aws', repo: 'acme/widgets', github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' }, aws: { region: 'eu-west-1' } },
  local: { provider: 'local', repo: 'acme/widgets' },
} satisfies Record<string, AgentiumConfigInput>;

export function parsedConfig(input: AgentiumConfigInput): AgentiumConfig {
  return parseConfig(input);
}

export const fixedNow = new Date('2026-11-22T10:00:00.000Z');
