/**
 * `agentium init`: writes a first `.agentium.yaml`, asking on a terminal or taking flags with
 * `--yes`. Every flag and answer is checked against the config schema before anything is written,
 * and a bad answer is asked again.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { checkFlags, setIn, valueProblem, type ConfigInput, type FlagValue } from '../config/load.js';
import { parseConfig, providerNames, type ProviderName } from '../config/schema.js';
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

/** One setting `init` writes: the flag that gives it, the key it sets, and the question that asks for it. */
interface Setting {
  option: 'repo' | 'appId' | 'privateKeySecret' | 'project' | 'region';
  flag: string;
  path: string[];
  question: string;
  /** Providers whose sessions need it. */
  neededBy: readonly ProviderName[];
}

const settings: readonly Setting[] = [
  { option: 'repo', flag: '--repo', path: ['repo'], question: 'Repository (owner/name)', neededBy: ['gcp', 'aws', 'local'] },
  { option: 'appId', flag: '--app-id', path: ['github', 'appId'], question: 'GitHub App id', neededBy: ['gcp', 'aws'] },
  {
    option: 'privateKeySecret',
    flag: '--private-key-secret',
    path: ['github', 'privateKeySecret'],
    question: 'Secret holding the App private key',
    neededBy: ['gcp', 'aws'],
  },
  { option: 'project', flag: '--project', path: ['gcp', 'project'], question: 'GCP project id', neededBy: ['gcp'] },
  { option: 'region', flag: '--region', path: ['aws', 'region'], question: 'AWS region', neededBy: ['aws'] },
];

/** Without `--provider`, both modes offer the config's own default (`provider: local`). */
const defaultProvider = (): ProviderName => parseConfig({}).provider;

export async function initCommand(options: InitOptions, command?: Command): Promise<void> {
  if (existsSync(options.config) && !options.force) {
    throw new PolicyError(`${options.config} already exists; not overwriting it`, { hint: 'pass --force to replace it' });
  }
  const interactive = !options.yes && Boolean(process.stdin.isTTY) && !process.env.CI;
  const values = interactive ? await ask(options, command) : fromFlags(options);
  writeFileSync(options.config, renderConfig(values), { mode: 0o644 });
  progress(`wrote ${options.config}; next: agentium run --issue <N> --dry-run`);
}

/** The settings a provider's file holds: what its sessions need, and the GitHub App whenever one is given. */
function settingsFor(provider: ProviderName, options: InitOptions): Setting[] {
  return settings.filter((setting) => setting.neededBy.includes(provider) || (setting.path[0] === 'github' && options.appId !== undefined));
}

/** A flag's or answer's text as the config holds it: a numeric App id is a number. */
function configValue(setting: Setting, text: string): unknown {
  return setting.option === 'appId' && /^\d+$/.test(text) ? Number(text) : text;
}

function fromFlags(options: InitOptions): FlagValue[] {
  const provider = options.provider ?? defaultProvider();
  const chosen = settingsFor(provider, options);
  const missing = chosen.filter((setting) => options[setting.option] === undefined).map((setting) => setting.flag);
  if (missing.length > 0) {
    throw new UsageError(`not on an interactive terminal, so these flags are needed: ${missing.join(', ')}`, {
      hint: `e.g. ${initExample(provider)}`,
    });
  }
  const values: FlagValue[] = [
    { flag: '--provider', path: ['provider'], value: provider },
    ...chosen.map((setting) => ({ flag: setting.flag, path: setting.path, value: configValue(setting, options[setting.option] ?? '') })),
  ];
  checkFlags(values);
  return values;
}

/** A complete `init --yes` command line for one provider. */
function initExample(provider: ProviderName): string {
  const cloudFlags = { gcp: ' --app-id 12345 --project my-project', aws: ' --app-id 12345 --region eu-west-1', local: '' }[provider];
  return `agentium init --provider ${provider} --repo acme/widgets${cloudFlags} --yes`;
}

async function ask(options: InitOptions, command: Command | undefined): Promise<FlagValue[]> {
  // Flags given with the questions are checked first: a bad one fails before anything is asked.
  const given = (setting: Setting) => options[setting.option] !== undefined && command?.getOptionValueSource(setting.option) !== 'default';
  checkFlags(settings.filter(given).map((setting) => ({ flag: setting.flag, path: setting.path, value: configValue(setting, options[setting.option] ?? '') })));

  const { createInterface } = await import('node:readline');
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  // Read answers from a line iterator: it buffers lines typed (or pasted) ahead of the question.
  const lines = prompt[Symbol.asyncIterator]();
  /** Asks until the answer is valid for `path`; an empty answer takes the fallback. */
  const question = async (text: string, path: string[], toValue: (answer: string) => unknown, fallback?: string): Promise<unknown> => {
    for (;;) {
      process.stderr.write(fallback ? `${text} [${fallback}]: ` : `${text}: `);
      const next = await lines.next();
      if (next.done) throw new UsageError('input ended before every question was answered', { hint: 'use --yes with flags' });
      const value = toValue(String(next.value).trim() || fallback || '');
      const problem = valueProblem(path, value);
      if (!problem) return value;
      process.stderr.write(`"${path.join('.')}": ${problem}; please try again\n`);
    }
  };
  try {
    const provider = options.provider ?? ((await question(`Provider (${providerNames.join('/')})`, ['provider'], String, defaultProvider())) as ProviderName);
    const values: FlagValue[] = [{ flag: '--provider', path: ['provider'], value: provider }];
    for (const setting of settingsFor(provider, options)) {
      const toValue = (text: string) => configValue(setting, text);
      const value = given(setting) ? toValue(options[setting.option] ?? '') : await question(setting.question, setting.path, toValue, options[setting.option]);
      values.push({ flag: setting.flag, path: setting.path, value });
    }
    return values;
  } finally {
    prompt.close();
  }
}

function renderConfig(values: readonly FlagValue[]): string {
  const config: ConfigInput = {};
  for (const { path, value } of values) setIn(config, path, value);
  return `${schemaComment}\n# Every key and its default: docs/configuration.md\n${stringify(config)}`;
}
