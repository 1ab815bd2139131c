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
import { sessionTimes } from '../session/spec.js';
import { configSchema, type AgentiumConfig, type ProviderName } from './schema.js';
import { configJsonSchemaObject } from './json-schema.js';

export type ConfigInput = Record<string, unknown>;

export interface LoadConfigOptions {
  /** Path of the config file. */
  path: string;
  /** When false, a missing file is fine (all settings may come from env and flags). */
  mustExist: boolean;
  env?: NodeJS.ProcessEnv;
  /** Flag overrides, each tagged with its flag; an undefined value means the flag was not given. */
  flags?: FlagValue[];
}

/** One flag's value and the config key it sets, e.g. `{ flag: '--repo', path: ['repo'], value: 'a/b' }`. */
export interface FlagValue {
  flag: string;
  path: string[];
  value: unknown;
}

/**
 * Agentium's own `AGENTIUM_*` variables that are not config keys. The loader ignores them, so a
 * controller or a test harness that sets them never breaks a CLI started from the same shell.
 */
export const ownEnvNames: ReadonlySet<string> = new Set([
  'AGENTIUM_DEBUG', // CLI: print stack traces of unexpected errors
  'AGENTIUM_SESSION_FILE', // controller: where the session spec is
  'AGENTIUM_STATE_DIR', // controller: where its state is kept
  'AGENTIUM_PROMPT_FILE', // agent container: the prompt
  'AGENTIUM_ISSUE', // agent container: the issue number
  'AGENTIUM_BRANCH', // agent container: the branch
  'AGENTIUM_GIT_TOKEN', // git credential helper (one git child process only)
  'AGENTIUM_GIT_HOST', // git credential helper
]);

interface YamlSource {
  path: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Where a key's value came from when not from the file. */
type Origin = { kind: 'flag'; flag: string } | { kind: 'env'; name: string };

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
  return { config: validate(merged, source, origins, options.flags ?? []), file: source?.path };
}

/**
 * Check values given one at a time (`init`'s flags), before anything is written: the schema's
 * complaints about these keys only, naming each value's flag. Keys not given are not required here.
 */
export function checkFlags(flags: readonly FlagValue[]): void {
  const problems = problemsOf(flags);
  const origins = new Map<string, Origin>(flags.map(({ flag, path }) => [path.join('.'), { kind: 'flag', flag }]));
  if (problems.length > 0) throw problemsError(problems, (path) => whereIs(path, undefined, origins));
}

/** The schema's complaint about one value on its own (an answer to `init`'s question), or undefined. */
export function valueProblem(path: string[], value: unknown): string | undefined {
  return problemsOf([{ path, value }])[0]?.message;
}

function problemsOf(values: ReadonlyArray<{ path: string[]; value: unknown }>): Problem[] {
  const input: ConfigInput = {};
  for (const { path, value } of values) setIn(input, path, value);
  const result = v.safeParse(configSchema, input);
  if (result.success) return [];
  const within = (problem: Problem, path: string[]) => path.every((key, index) => problem.path[index] === key);
  return result.issues.map(toProblem).filter((problem) => values.some(({ path }) => within(problem, path)));
}

/** Where each key of a loaded config came from, for checks that run after loading (requireProviderSettings). */
interface ConfigSources {
  where(path: readonly string[]): string;
  given(path: readonly string[]): boolean;
}
const sourcesOf = new WeakMap<AgentiumConfig, ConfigSources>();

function validate(merged: ConfigInput, source: YamlSource | undefined, origins: Map<string, Origin>, flags: readonly FlagValue[]): AgentiumConfig {
  for (const { flag, path, value } of flags) {
    if (value === undefined) continue;
    setIn(merged, path, value);
    origins.set(path.join('.'), { kind: 'flag', flag });
  }
  const where = (path: readonly string[]) => whereIs(path, source, origins);
  const result = v.safeParse(configSchema, merged);
  if (!result.success) throw problemsError(result.issues.map(toProblem), where);
  sourcesOf.set(result.output, { where, given: (path) => getIn(merged, path) !== undefined });
  return result.output;
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
  // valibot reports an unknown key and an absent required key of a strict object alike, at the
  // key's own path; only the unknown key has an input (its name).
  if (issue.type === 'strict_object' && issue.path?.at(-1)?.origin === 'key') {
    return { path, message: issue.input === undefined ? `missing required key (or ${envNameOf(path)})` : 'unknown key' };
  }
  return { path, message: issue.message };
}

function problemsError(problems: readonly Problem[], where: (path: readonly string[]) => string): ConfigError {
  const lines = problems.map(({ path, message }) => `${where(path)}: ${path.length > 0 ? `"${path.join('.')}"` : 'config'}: ${message}`);
  return new ConfigError(lines.length === 1 ? (lines[0] ?? '') : `invalid configuration:\n  ${lines.join('\n  ')}`, {
    hint: 'see docs/configuration.md for every key and its default',
    details: { issues: problems.map(({ path, message }) => ({ key: path.join('.'), message })) },
  });
}

function whereIs(path: readonly string[], source: YamlSource | undefined, origins: Map<string, Origin>): string {
  const describe = (origin: Origin) => (origin.kind === 'flag' ? `flag ${origin.flag}` : `environment variable ${origin.name}`);
  for (let depth = path.length; depth > 0; depth--) {
    const origin = origins.get(path.slice(0, depth).join('.'));
    if (origin) return describe(origin);
  }
  // The key's own node when it exists; otherwise the nearest enclosing key (a missing key).
  for (let depth = path.length; depth > 0; depth--) {
    const position = positionOf(source, path.slice(0, depth));
    if (position) return position;
  }
  // A missing key whose section was started by an environment variable or flag: name that one.
  const section = `${path.slice(0, -1).join('.')}.`;
  const sibling = [...origins].find(([key]) => path.length > 1 && key.startsWith(section));
  if (sibling) return describe(sibling[1]);
  return positionOf(source, []) ?? source?.path ?? 'configuration';
}

function positionOf(source: YamlSource | undefined, path: readonly string[]): string | undefined {
  if (!source) return undefined;
  const node = path.length === 0 ? source.doc.contents : keyNodeAt(source.doc, [...path]);
  const offset = (node as { range?: [number, number, number] } | null)?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = source.lines.linePos(offset);
  return `${source.path}:${line}:${col}`;
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

export function setIn(target: ConfigInput, path: string[], value: unknown): void {
  let cursor: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = cursor[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[path[path.length - 1] as string] = value;
}

function getIn(target: ConfigInput, path: readonly string[]): unknown {
  return path.reduce<unknown>((cursor, key) => (typeof cursor === 'object' && cursor !== null ? (cursor as ConfigInput)[key] : undefined), target);
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

/**
 * `AGENTIUM_*` variables that name a config key are read; Agentium's own (`ownEnvNames`) are
 * ignored; one that looks like a config key but is none (a typo) is an error, so a misspelt
 * setting never goes unnoticed. Any other `AGENTIUM_*` name belongs to someone else and is left alone.
 */
function configFromEnv(env: NodeJS.ProcessEnv): Array<{ name: string; path: string[]; value: unknown }> {
  const names = Object.keys(env).filter((name) => name.startsWith('AGENTIUM_') && !ownEnvNames.has(name));
  if (names.length === 0) return [];
  const keys = envKeys();
  const keyNames = [...keys.keys()];
  const read: Array<{ name: string; path: string[]; value: unknown }> = [];
  for (const name of names.sort()) {
    const key = keys.get(name);
    if (key) read.push({ name, path: key.path, value: fromEnvText(env[name] ?? '', key.type) });
    else if (looksLikeConfigKey(name, keyNames)) {
      throw new ConfigError(`environment variable ${name} is not a configuration key; did you mean ${likelyMeant(name, keyNames)}?`, {
        hint: 'AGENTIUM_* variables map to config keys, e.g. AGENTIUM_GCP_PROJECT for gcp.project (docs/configuration.md)',
      });
    }
  }
  return read;
}

/**
 * A typo of a config key: its first word is a top-level key or section (`AGENTIUM_GCP_PROJET`,
 * `AGENTIUM_REPOSITORY`), one edit away from one (`AGENTIUM_GPC_PROJECT`), or it is the end of a
 * key's name with the section left out (`AGENTIUM_REGION`).
 */
function looksLikeConfigKey(name: string, keyNames: readonly string[]): boolean {
  const words = name.slice('AGENTIUM_'.length);
  const first = words.split('_')[0] ?? '';
  const sections = new Set(keyNames.map((key) => key.slice('AGENTIUM_'.length).split('_')[0] ?? ''));
  return (
    [...sections].some((section) => first.startsWith(section) || editDistance(first, section) <= 1) ||
    keyNames.some((key) => key.endsWith(`_${words}`))
  );
}

/** The keys a typo most likely meant: those ending in its words, else the one fewest edits away. */
function likelyMeant(name: string, keyNames: readonly string[]): string {
  const endingWith = keyNames.filter((key) => key.endsWith(`_${name.slice('AGENTIUM_'.length)}`));
  if (endingWith.length > 0) return endingWith.join(' or ');
  return keyNames.reduce((best, key) => (editDistance(name, key) < editDistance(name, best) ? key : best));
}

/** Edits (insert, delete, replace, swap of neighbours) that turn a into b. */
function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const table = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number): number => table[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) {
    for (let j = 0; j <= b.length; j++) {
      let edits = i + j;
      if (i > 0 && j > 0) {
        edits = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) edits = Math.min(edits, at(i - 2, j - 2) + 1);
      }
      table[i * width + j] = edits;
    }
  }
  return at(a.length, b.length);
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

/**
 * What a session on this provider needs beyond the schema: settings with no sensible default
 * (reported only when really needed), and a lifetime and agent timeout the provider allows.
 */
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
  const problem = sessionTimeProblem(config, provider);
  if (problem) throw problemsError([problem], sourcesOf.get(config)?.where ?? (() => 'configuration'));
}

function sessionTimeProblem(config: AgentiumConfig, provider: ProviderName): Problem | undefined {
  const times = sessionTimes(config, provider);
  if (!('problem' in times)) return undefined;
  const { key, message } = times.problem;
  if (key === 'lifetime') return { path: ['session', 'lifetime'], message };
  // Point at the agent timeout when the user set it; otherwise the lifetime is what they changed.
  const timeoutGiven = sourcesOf.get(config)?.given(['agent', 'timeout']) ?? true;
  return { path: timeoutGiven ? ['agent', 'timeout'] : ['session', 'lifetime'], message: `agent.timeout ${message}` };
}
