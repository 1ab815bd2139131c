/**
 * The one config loader: `.agentium.yaml` + `AGENTIUM_*` environment + command-line flags
 * (later wins), validated against `configSchema`. Errors name the source precisely: the file,
 * line, column and key; the environment variable; or the flag.
 */
import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import * as v from 'valibot';
import { ConfigError } from '../errors.js';
import { configSchema, type AgentiumConfig, type ProviderName } from './schema.js';
import { configJsonSchemaObject } from './json-schema.js';

export type ConfigInput = Record<string, unknown>;

export interface LoadConfigOptions {
  /** Path of the config file. */
  path: string;
  /** When false, a missing file is fine (all settings may come from env and flags). */
  mustExist: boolean;
  env?: NodeJS.ProcessEnv;
  /** Flag overrides, already shaped like the config (e.g. `{ repo: 'a/b' }`), each tagged with its flag. */
  flags?: Array<{ flag: string; path: string[]; value: unknown }>;
}

/** Environment variables that start with AGENTIUM_ but are not config keys. */
const nonConfigEnv = new Set(['AGENTIUM_DEBUG']);

interface YamlSource {
  path: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

type Origin = { kind: 'flag'; flag: string } | { kind: 'env'; name: string } | { kind: 'file' };

export interface LoadedConfig {
  config: AgentiumConfig;
  /** Where the file was read from, or undefined when no file was used. */
  file: string | undefined;
}

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const env = options.env ?? process.env;
  const source = readYamlSource(options.path, options.mustExist);
  const fromFile = source ? (source.doc.toJS() as unknown) : {};
  if (fromFile !== null && (typeof fromFile !== 'object' || Array.isArray(fromFile))) {
    throw new ConfigError(`${options.path}:1:1: the configuration must be a mapping of keys to values`);
  }
  const merged: ConfigInput = structuredClone((fromFile ?? {}) as ConfigInput);
  const origins = new Map<string, Origin>();
  for (const { path, value, name } of configFromEnv(env)) {
    setIn(merged, path, value);
    origins.set(path.join('.'), { kind: 'env', name });
  }
  for (const { flag, path, value } of options.flags ?? []) {
    if (value === undefined) continue;
    setIn(merged, path, value);
    origins.set(path.join('.'), { kind: 'flag', flag });
  }
  const result = v.safeParse(configSchema, merged);
  if (!result.success) {
    const problems = result.issues.map(toProblem);
    throw new ConfigError(describeProblems(problems, source, origins), {
      hint: 'see docs/configuration.md for every key and its default',
      details: { issues: problems.map(({ path, message }) => ({ key: path.join('.'), message })) },
    });
  }
  return { config: result.output, file: source?.path };
}

function readYamlSource(path: string, mustExist: boolean): YamlSource | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !mustExist) return undefined;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new ConfigError(`cannot read config file ${path}: ${reason}`, {
      hint: code === 'ENOENT' ? 'create one with `agentium init`' : undefined,
    });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const position = yamlError.linePos?.[0];
    const where = position ? `${path}:${position.line}:${position.col}` : path;
    const reason = (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${where}: invalid YAML: ${reason}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError(`${path}:1:1: the configuration must be a mapping of keys to values`);
  }
  return { path, doc, lines };
}

interface Problem {
  path: string[];
  message: string;
}

function toProblem(issue: v.BaseIssue<unknown>): Problem {
  const path = (issue.path ?? []).map((item) => String(item.key));
  // valibot reports an unknown key of a strict object at the key's own path.
  const message = issue.type === 'strict_object' ? 'unknown key' : issue.message;
  return { path, message };
}

function describeProblems(problems: readonly Problem[], source: YamlSource | undefined, origins: Map<string, Origin>): string {
  const lines = problems.map(({ path, message }) => `${whereIs(path, source, origins)}: ${path.length > 0 ? `"${path.join('.')}"` : 'config'}: ${message}`);
  return lines.length === 1 ? (lines[0] ?? '') : `invalid configuration:\n  ${lines.join('\n  ')}`;
}

function whereIs(path: readonly string[], source: YamlSource | undefined, origins: Map<string, Origin>): string {
  for (let depth = path.length; depth > 0; depth--) {
    const origin = origins.get(path.slice(0, depth).map(String).join('.'));
    if (origin?.kind === 'flag') return `flag ${origin.flag}`;
    if (origin?.kind === 'env') return `environment variable ${origin.name}`;
  }
  if (!source) return 'configuration';
  // The key's own node when it exists; otherwise the nearest enclosing node (a missing key).
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth) as Array<string | number>;
    const node = prefix.length === 0 ? source.doc.contents : keyNodeAt(source.doc, prefix);
    const offset = (node as { range?: [number, number, number] } | null)?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = source.lines.linePos(offset);
      return `${source.path}:${line}:${col}`;
    }
  }
  return source.path;
}

/** The key node (not the value) at a path, so positions point at the key the user wrote. */
function keyNodeAt(doc: Document.Parsed, path: Array<string | number>): unknown {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === last);
    if (pair) return pair.key;
  }
  return doc.getIn(path, true);
}

function setIn(target: ConfigInput, path: string[], value: unknown): void {
  let cursor: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = cursor[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[path[path.length - 1] as string] = value;
}

interface EnvKey {
  path: string[];
  type: string | undefined;
}

/** `gcp.apiEndpoint` → `AGENTIUM_GCP_API_ENDPOINT`. */
export function envNameOf(path: readonly string[]): string {
  return `AGENTIUM_${path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

/** Every leaf key of the schema, by its environment variable name. */
export function envKeys(): Map<string, EnvKey> {
  const keys = new Map<string, EnvKey>();
  const walk = (schema: Record<string, unknown>, path: string[]): void => {
    const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (schema.type === 'object' && properties) {
      for (const [key, child] of Object.entries(properties)) walk(child, [...path, key]);
      return;
    }
    const type = Array.isArray(schema.anyOf) ? 'string' : (schema.type as string | undefined);
    if (path[0] !== '$schema') keys.set(envNameOf(path), { path, type });
  };
  walk(configJsonSchemaObject(), []);
  return keys;
}

function configFromEnv(env: NodeJS.ProcessEnv): Array<{ name: string; path: string[]; value: unknown }> {
  const names = Object.keys(env).filter((name) => name.startsWith('AGENTIUM_') && !nonConfigEnv.has(name));
  if (names.length === 0) return [];
  const keys = envKeys();
  return names.sort().map((name) => {
    const key = keys.get(name);
    if (!key) {
      throw new ConfigError(`environment variable ${name} is not a configuration key`, {
        hint: 'AGENTIUM_* variables map to config keys, e.g. AGENTIUM_GCP_PROJECT for gcp.project (docs/configuration.md)',
      });
    }
    return { name, path: key.path, value: fromEnvText(env[name] ?? '', key.type) };
  });
}

function fromEnvText(text: string, type: string | undefined): unknown {
  switch (type) {
    case 'array':
      return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'integer':
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

/** Settings a provider needs that have no sensible default; reported only when really needed. */
export function requireProviderSettings(config: AgentiumConfig, provider: ProviderName): void {
  const missing: string[] = [];
  if (!config.repo) missing.push('repo');
  if (provider !== 'local') {
    if (!config.github) missing.push('github.appId', 'github.privateKeySecret');
    if (provider === 'gcp' && !config.gcp) missing.push('gcp.project');
    if (provider === 'aws' && !config.aws) missing.push('aws.region');
  }
  if (missing.length > 0) {
    const list = missing.map((key) => `${key} (or ${envNameOf(key.split('.'))})`).join(', ');
    throw new ConfigError(`provider "${provider}" needs settings that are missing: ${list}`, {
      hint: 'add them to .agentium.yaml (agentium init writes one) — see docs/configuration.md',
      details: { missing },
    });
  }
}
