import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envKeys, envNameOf, loadConfig, ownEnvNames, requireProviderSettings } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { projectRoot } from '../support/cli.js';
import { minimalConfigs, parsedConfig } from '../support/config.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentium-config-'));
  const path = join(dir, '.agentium.yaml');
  writeFileSync(path, text);
  return path;
}

function loadError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const minimalGcp = `provider: gcp
repo: acme/widgets
github:
  appId: 12345
  privateKeySecret: agentium-github-app-key
gcp:
  project: acme-agents
`;

describe('config loader', () => {
  it('accepts the minimal GCP config and fills documented defaults', () => {
    const { config } = loadConfig({ path: writeConfig(minimalGcp), mustExist: true, env: {} });
    expect(config.gcp?.zones).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f']);
    expect(config.github?.apiUrl).toBe('https://api.github.com');
    expect(config.session).toEqual({ lifetime: '2h', spot: true, onDemandFallback: false });
    expect(config.agent.pids).toBe(512);
    expect(() => requireProviderSettings(config, 'gcp')).not.toThrow();
  });

  it('names file, line, column and key for an unknown key (fail closed)', () => {
    const path = writeConfig(`${minimalGcp}  zonez: [us-central1-a]\n`);
    const error = loadError(() => loadConfig({ path, mustExist: true, env: {} }));
    expect(error.message).toBe(`${path}:8:3: "gcp.zonez": unknown key`);
    expect(error.exitCode).toBe(2);
  });

  it('points at the offending value for a wrong type', () => {
    const path = writeConfig(minimalGcp.replace('appId: 12345', 'appId: [1]'));
    expect(loadError(() => loadConfig({ path, mustExist: true, env: {} })).message).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:3: "github.appId": `),
    );
  });

  it('shows line and column for invalid YAML', () => {
    const path = writeConfig('provider: gcp\nrepo: [unclosed\n');
    expect(loadError(() => loadConfig({ path, mustExist: true, env: {} })).message).toMatch(/:\d+:\d+: invalid YAML: /);
  });

  it('refuses duplicate keys', () => {
    const path = writeConfig('repo: a/b\nrepo: c/d\n');
    expect(loadError(() => loadConfig({ path, mustExist: true, env: {} })).message).toMatch(/:2:1: invalid YAML: Map keys must be unique/);
  });

  it('reports unreadable files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentium-config-'));
    expect(loadError(() => loadConfig({ path: join(dir, 'missing.yaml'), mustExist: true, env: {} })).message).toMatch(
      /cannot read config file .*missing\.yaml: no such file/,
    );
    mkdirSync(join(dir, 'a-directory.yaml'));
    expect(loadError(() => loadConfig({ path: join(dir, 'a-directory.yaml'), mustExist: true, env: {} })).message).toMatch(
      /it is a directory/,
    );
    if (process.getuid?.() !== 0) {
      const locked = writeConfig(minimalGcp);
      chmodSync(locked, 0o000);
      expect(loadError(() => loadConfig({ path: locked, mustExist: true, env: {} })).message).toMatch(/permission denied/);
    }
  });

  it('treats a missing default file as empty when it was not asked for', () => {
    const { config, file } = loadConfig({ path: '/nonexistent/.agentium.yaml', mustExist: false, env: {} });
    expect(file).toBeUndefined();
    expect(config.provider).toBe('local');
  });

  it('layers file < environment < flags, converting env text by the schema type', () => {
    const path = writeConfig(minimalGcp);
    const { config } = loadConfig({
      path,
      mustExist: true,
      env: { AGENTIUM_REPO: 'env/repo', AGENTIUM_GCP_ZONES: 'europe-west1-b, europe-west1-c', AGENTIUM_AGENT_PIDS: '256', AGENTIUM_SESSION_SPOT: 'false' },
      flags: [{ flag: '--repo', path: ['repo'], value: 'flag/repo' }],
    });
    expect(config.repo).toBe('flag/repo');
    expect(config.gcp?.zones).toEqual(['europe-west1-b', 'europe-west1-c']);
    expect(config.agent.pids).toBe(256);
    expect(config.session.spot).toBe(false);
  });

  it('names the environment variable or flag that is wrong', () => {
    const path = writeConfig(minimalGcp);
    expect(loadError(() => loadConfig({ path, mustExist: true, env: { AGENTIUM_AGENT_PIDS: 'many' } })).message).toBe(
      'environment variable AGENTIUM_AGENT_PIDS: "agent.pids": Invalid type: Expected number but received "many"',
    );
    expect(
      loadError(() => loadConfig({ path, mustExist: true, env: {}, flags: [{ flag: '--repo', path: ['repo'], value: 'no-slash' }] })).message,
    ).toBe('flag --repo: "repo": must be owner/name');
    expect(loadError(() => loadConfig({ path, mustExist: true, env: { AGENTIUM_GCP_PROJET: 'x' } })).message).toMatch(
      /AGENTIUM_GCP_PROJET is not a configuration key/,
    );
  });

  it('maps every schema key to one environment variable', () => {
    expect(envNameOf(['gcp', 'apiEndpoint'])).toBe('AGENTIUM_GCP_API_ENDPOINT');
    const names = [...envKeys().keys()];
    expect(names).toContain('AGENTIUM_GITHUB_PRIVATE_KEY_SECRET');
    expect(names).toContain('AGENTIUM_AWS_SUBNET_IDS');
    expect(new Set(names).size).toBe(names.length);
  });

  it('refuses unpinned images and the default compute service account', () => {
    const latest = writeConfig(`${minimalGcp}agent:\n  image: example.com/agent:latest\n`);
    expect(loadError(() => loadConfig({ path: latest, mustExist: true, env: {} })).message).toMatch(/"agent.image": must be pinned/);
    const untagged = writeConfig(`${minimalGcp}controller:\n  image: example.com/controller\n`);
    expect(loadError(() => loadConfig({ path: untagged, mustExist: true, env: {} })).message).toMatch(/"controller.image": must be pinned/);
    const defaultSa = writeConfig(`${minimalGcp}  serviceAccount: 123-compute@developer.gserviceaccount.com\n`);
    expect(loadError(() => loadConfig({ path: defaultSa, mustExist: true, env: {} })).message).toMatch(/dedicated service account/);
  });

  it('lists the settings a provider really needs, with their environment names', () => {
    const { config } = loadConfig({ path: writeConfig('provider: aws\nrepo: a/b\n'), mustExist: true, env: {} });
    const error = loadError(() => requireProviderSettings(config, 'aws'));
    expect(error.message).toContain('aws.region (or AGENTIUM_AWS_REGION)');
    expect(error.message).toContain('github.appId');
    const local = loadConfig({ path: writeConfig('provider: local\nrepo: a/b\n'), mustExist: true, env: {} }).config;
    expect(() => requireProviderSettings(local, 'local')).not.toThrow();
  });

  it('knows every AGENTIUM_ variable the code itself reads or sets, and none of them is a config key', () => {
    const sources = ['src', 'controller', 'cloud-init'].flatMap((dir) =>
      (readdirSync(join(projectRoot, dir), { recursive: true }) as string[]).filter((file) => file.endsWith('.ts')).map((file) => join(projectRoot, dir, file)),
    );
    // The loader itself is left out: its comments show typos it refuses.
    const used = new Set(sources.filter((file) => !file.endsWith(join('src', 'config', 'load.ts'))).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bAGENTIUM_[A-Z0-9_]*[A-Z0-9]\b/g)].map((match) => match[0])));
    const keys = envKeys();
    // Prefixes such as AGENTIUM_GIT_ (checked with startsWith) end in "_" and are not names.
    expect([...used].filter((name) => !keys.has(name) && !ownEnvNames.has(name))).toEqual([]);
    expect([...ownEnvNames].filter((name) => keys.has(name))).toEqual([]);
  });

  it('checks lifetime and agent timeout against the provider, naming the key', () => {
    const longLived = parsedConfig({ ...minimalConfigs.aws, session: { lifetime: '30d' } });
    expect(loadError(() => requireProviderSettings(longLived, 'aws')).message).toBe(
      'configuration: "session.lifetime": 30d is outside what aws allows (5 minutes to 7 days)',
    );
    const shortLived = parsedConfig({ ...minimalConfigs.gcp, session: { lifetime: '1h' } });
    expect(loadError(() => requireProviderSettings(shortLived, 'gcp')).message).toBe(
      'configuration: "agent.timeout": agent.timeout 90m must be shorter than the session lifetime 1h',
    );
  });

  it('points a too-long default agent timeout at the lifetime the user set', () => {
    const path = writeConfig(`${minimalGcp}session:\n  lifetime: 1h\n`);
    const { config } = loadConfig({ path, mustExist: true, env: {} });
    expect(loadError(() => requireProviderSettings(config, 'gcp')).message).toBe(
      `${path}:9:3: "session.lifetime": agent.timeout 90m must be shorter than the session lifetime 1h`,
    );
  });

  it('reports a section of the wrong type as a type error, not an unknown key', () => {
    const path = writeConfig(`${minimalGcp}policy: 5\n`);
    expect(loadError(() => loadConfig({ path, mustExist: true, env: {} })).message).toBe(`${path}:8:1: "policy": Invalid type: Expected Object but received 5`);
  });
});
