/** The `.agentium.yaml` files the e2e tests run the CLI with, each cloud section pointed at its fake. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeCompute } from '../fakes/gcp/compute.js';

export function gcpSection(compute: FakeCompute): string {
  return `gcp: { project: ${compute.project}, zones: [${compute.zones.join(', ')}], apiEndpoint: "${compute.url}" }`;
}

/** sg-0b2 is the fakes' group without ingress rules; `regions` sets aws.regions. */
export function awsSection(endpoint: string, regions?: string[]): string {
  const sweep = regions ? `, regions: [${regions.join(', ')}]` : '';
  return `aws: { region: us-east-1${sweep}, subnetIds: [subnet-0a1], securityGroupIds: [sg-0b2], endpoint: "${endpoint}" }`;
}

/** Writes `file` (in `cwd`, or a new temporary folder) and returns the folder. */
export function writeConfig(provider: 'gcp' | 'aws', sections: string[], options: { cwd?: string; file?: string } = {}): string {
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), `agentium-e2e-${provider}-`));
  const keySecret = provider === 'aws' ? 'agentium/github-app-key' : 'agentium-github-app-key';
  const lines = [`provider: ${provider}`, 'repo: acme/widgets', `github: { appId: 12345, privateKeySecret: ${keySecret} }`, ...sections, ''];
  writeFileSync(join(cwd, options.file ?? '.agentium.yaml'), lines.join('\n'));
  return cwd;
}
