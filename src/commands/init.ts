import { existsSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { providerNames, type ProviderName } from '../config/schema.js';
import { PolicyError, UsageError } from '../errors.js';
import { progress } from '../output.js';

export interface InitOptions {
  provider?: ProviderName;
  repo?: string;
  appId?: string;
  privateKeySecret: string;
  project?: string;
  region?: string;
  config: string;
  yes?: boolean;
  force?: boolean;
}

/** Editors validate `.agentium.yaml` against the schema shipped in the package. */
export const schemaComment = '# yaml-language-server: $schema=./node_modules/agentium/agentium.schema.json';

interface Answers {
  provider: ProviderName;
  repo: string;
  appId: string | undefined;
  privateKeySecret: string;
  project: string | undefined;
  region: string | undefined;
}

export async function initCommand(options: InitOptions, io: { interactive?: boolean } = {}): Promise<void> {
  if (existsSync(options.config) && !options.force) {
    throw new PolicyError(`${options.config} already exists; not overwriting it`, { hint: 'pass --force to replace it' });
  }
  const interactive = io.interactive ?? (!options.yes && Boolean(process.stdin.isTTY) && !process.env.CI);
  const answers = interactive ? await ask(options) : fromFlags(options);
  const text = renderConfig(answers);
  writeFileSync(`${options.config}.tmp`, text, { mode: 0o644 });
  try {
    // Validate what we are about to write, so `init` never leaves a broken file behind.
    loadConfig({ path: `${options.config}.tmp`, mustExist: true, env: {} });
  } catch (error) {
    const { rmSync } = await import('node:fs');
    rmSync(`${options.config}.tmp`, { force: true });
    throw error;
  }
  const { renameSync } = await import('node:fs');
  renameSync(`${options.config}.tmp`, options.config);
  progress(`wrote ${options.config}; next: agentium run --issue <N> --dry-run`);
}

function fromFlags(options: InitOptions): Answers {
  const provider = options.provider ?? 'local';
  const missing: string[] = [];
  if (!options.repo) missing.push('--repo');
  if (provider !== 'local' && !options.appId) missing.push('--app-id');
  if (provider === 'gcp' && !options.project) missing.push('--project');
  if (provider === 'aws' && !options.region) missing.push('--region');
  if (missing.length > 0) {
    throw new UsageError(`not on an interactive terminal, so these flags are needed: ${missing.join(', ')}`, {
      hint: 'e.g. agentium init --provider gcp --repo acme/widgets --app-id 12345 --project my-project --yes',
    });
  }
  return {
    provider,
    repo: options.repo ?? '',
    appId: options.appId,
    privateKeySecret: options.privateKeySecret,
    project: options.project,
    region: options.region,
  };
}

async function ask(options: InitOptions): Promise<Answers> {
  const { createInterface } = await import('node:readline');
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  // Read answers from a line iterator: it buffers lines typed (or pasted) ahead of the question.
  const lines = prompt[Symbol.asyncIterator]();
  const question = async (text: string, fallback?: string): Promise<string> => {
    process.stderr.write(fallback ? `${text} [${fallback}]: ` : `${text}: `);
    const next = await lines.next();
    if (next.done) throw new UsageError('input ended before every question was answered', { hint: 'use --yes with flags' });
    return String(next.value).trim() || fallback || '';
  };
  try {
    let provider = options.provider ?? '';
    while (!providerNames.includes(provider as ProviderName)) {
      provider = await question(`Provider (${providerNames.join('/')})`, 'gcp');
    }
    const repo = options.repo ?? (await question('Repository (owner/name)'));
    const cloud = provider !== 'local';
    return {
      provider: provider as ProviderName,
      repo,
      appId: cloud ? (options.appId ?? (await question('GitHub App id'))) : options.appId,
      privateKeySecret: cloud ? await question('Secret holding the App private key', options.privateKeySecret) : options.privateKeySecret,
      project: provider === 'gcp' ? (options.project ?? (await question('GCP project id'))) : undefined,
      region: provider === 'aws' ? (options.region ?? (await question('AWS region', 'us-east-1'))) : undefined,
    };
  } finally {
    prompt.close();
  }
}

export function renderConfig(answers: Answers): string {
  const config: Record<string, unknown> = { provider: answers.provider, repo: answers.repo };
  if (answers.appId) {
    config.github = {
      appId: /^\d+$/.test(answers.appId) ? Number(answers.appId) : answers.appId,
      privateKeySecret: answers.privateKeySecret,
    };
  }
  if (answers.provider === 'gcp') config.gcp = { project: answers.project };
  if (answers.provider === 'aws') config.aws = { region: answers.region };
  return `${schemaComment}\n# Every key and its default: docs/configuration.md\n${stringify(config)}`;
}
