import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, withReference } from '../../src/config/write-schema.js';
import { ExitCode } from '../../src/errors.js';
import { cliPath, projectRoot, runCli } from '../support/cli.js';
import { assertValidCloudConfig } from '../support/cloud-init.js';

function workdir(config?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentium-cli-'));
  if (config !== undefined) writeFileSync(join(dir, '.agentium.yaml'), config);
  return dir;
}

const gcpConfig = 'provider: gcp\nrepo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: agentium-github-app-key\ngcp:\n  project: acme-agents\n';

describe('agentium CLI', () => {
  it('prints help listing every command with examples, and the version', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['run', 'init', 'status', 'destroy', 'redact']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('Exit codes:');
    const runHelp = runCli(['run', '--help']);
    expect(runHelp.stdout).toContain('agentium run --issue 123 --dry-run');
    const version = runCli(['--version']);
    const { version: expected } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(expected);
  });

  it('prints the DESIGN §3 JSON plan for GCP without credentials or network', () => {
    const result = runCli(['run', '--issue', '42', '--dry-run', '--json'], { cwd: workdir(gcpConfig) });
    expect(result.status).toBe(0);
    const plan = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(plan)).toEqual(['session', 'provider', 'request', 'userData', 'githubToken', 'container']);
    expect(plan.githubToken).toEqual({ repositories: ['widgets'], permissions: { contents: 'write', pull_requests: 'write', issues: 'write' } });
    expect(plan.request).toMatchObject({ project: 'acme-agents', zone: 'us-central1-a', instanceResource: { name: (plan.session as { id: string }).id } });
    assertValidCloudConfig(plan.userData as string);
  });

  it('prints an AWS plan from flags and environment alone', () => {
    const result = runCli(['run', '--issue', '7', '--repo', 'acme/widgets', '--provider', 'aws', '--dry-run', '--json'], {
      cwd: workdir(),
      env: { AGENTIUM_AWS_REGION: 'eu-west-1', AGENTIUM_GITHUB_APP_ID: '12345', AGENTIUM_GITHUB_PRIVATE_KEY_SECRET: 'agentium/github-app-key' },
    });
    expect(result.status).toBe(0);
    const plan = JSON.parse(result.stdout) as { request: Record<string, unknown>; session: { branch: string } };
    expect(plan.session.branch).toBe('agentium/issue-7');
    expect(plan.request).toMatchObject({ MetadataOptions: { HttpTokens: 'required' }, InstanceInitiatedShutdownBehavior: 'terminate' });
  });

  it('prints a readable human summary followed by the user-data', () => {
    const result = runCli(['run', '--issue', '42', '--dry-run', '--on-demand', '--lifetime', '3h'], { cwd: workdir(gcpConfig) });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/provider\s+gcp acme-agents, zone us-central1-a, e2-standard-4, on-demand/);
    expect(result.stdout).toMatch(/lifetime\s+3h \(deadline/);
    expect(result.stdout).toMatch(/token\s+contents:write, pull_requests:write, issues:write on widgets only/);
    expect(result.stdout).toMatch(/limits\s+2 CPUs, 4 GiB memory \(no swap\), 512 processes/);
    expect(result.stdout).toContain('--- user-data (cloud-init) ---\n#cloud-config\n');
  });

  const badInputs: Array<[string, string[], string | undefined, number, RegExp]> = [
    ['issue not a positive integer', ['run', '--issue', '1.5', '--dry-run'], gcpConfig, 2, /issue must be a positive integer/],
    ['issue missing', ['run', '--dry-run'], gcpConfig, 2, /required option '-i, --issue <number>' not specified/],
    ['repo not owner/name', ['run', '--issue', '1', '--repo', 'widgets', '--dry-run'], gcpConfig, 2, /flag --repo: "repo": must be owner\/name/],
    ['provider settings missing', ['run', '--issue', '1', '--dry-run'], 'provider: gcp\nrepo: a/b\n', 2, /gcp\.project \(or AGENTIUM_GCP_PROJECT\)/],
    ['invalid YAML', ['run', '--issue', '1', '--dry-run'], 'provider: gcp\n  repo: [\n', 2, /\.agentium\.yaml:\d+:\d+: invalid YAML/],
    ['unknown key', ['run', '--issue', '1', '--dry-run'], `${gcpConfig}colour: blue\n`, 2, /\.agentium\.yaml:8:1: "colour": unknown key/],
    ['lifetime out of range', ['run', '--issue', '1', '--lifetime', '200d', '--dry-run'], gcpConfig, 2, /outside what gcp allows/],
    ['conflicting flags', ['run', '--issue', '1', '--local', '--provider', 'gcp', '--dry-run'], gcpConfig, 2, /--local conflicts with --provider gcp/],
    ['unreadable config file', ['run', '--issue', '1', '--config', 'nope.yaml', '--dry-run'], undefined, 2, /cannot read config file nope\.yaml/],
    ['unknown provider', ['run', '--issue', '1', '--provider', 'azure', '--dry-run'], gcpConfig, 2, /argument 'azure' is invalid/],
  ];

  for (const [name, args, config, code, message] of badInputs) {
    it(`refuses bad input clearly: ${name}`, () => {
      const cwd = workdir(config);
      const human = runCli(args, { cwd });
      expect(human.status).toBe(code);
      expect(human.stderr).toMatch(message);
      expect(human.stdout).toBe('');
      const json = runCli([...args, '--json'], { cwd });
      expect(json.status).toBe(code);
      const document = JSON.parse(json.stdout) as { error: { exitCode: number; message: string } };
      expect(document.error.exitCode).toBe(code);
      expect(document.error.message).toMatch(message);
    });
  }

  it('init writes a valid config non-interactively and refuses to overwrite without --force', () => {
    const cwd = workdir();
    const args = ['init', '--provider', 'gcp', '--repo', 'acme/widgets', '--app-id', '12345', '--project', 'acme-agents', '--yes'];
    expect(runCli(args, { cwd }).status).toBe(0);
    const text = readFileSync(join(cwd, '.agentium.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=/);
    expect(runCli(['run', '--issue', '1', '--dry-run', '--json'], { cwd }).status).toBe(0);
    const again = runCli(args, { cwd });
    expect(again.status).toBe(6);
    expect(again.stderr).toMatch(/already exists; not overwriting/);
    expect(runCli([...args, '--force'], { cwd }).status).toBe(0);
  });

  it('init asks on a terminal, re-asking for an invalid provider', () => {
    const cwd = workdir();
    // `script` (util-linux) gives the CLI a real pseudo-terminal, as a person at a shell would.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'CI' && !name.startsWith('AGENTIUM_')));
    const result = spawnSync('script', ['-qec', `${process.execPath} ${cliPath} init`, '/dev/null'], {
      cwd,
      env,
      input: 'azure\naws\nacme/widgets\n999\n\neu-west-1\n',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.match(/Provider \(gcp\/aws\/local\) \[gcp\]: /g)).toHaveLength(2);
    const text = readFileSync(join(cwd, '.agentium.yaml'), 'utf8');
    expect(text).toContain('provider: aws\nrepo: acme/widgets\ngithub:\n  appId: 999\n  privateKeySecret: agentium-github-app-key\naws:\n  region: eu-west-1\n');
  });

  it('init without a terminal names the flags it needs and writes nothing', () => {
    const cwd = workdir();
    const result = runCli(['init', '--provider', 'aws'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--repo, --app-id, --region/);
    expect(existsSync(join(cwd, '.agentium.yaml'))).toBe(false);
  });

  it('documents exactly the exit codes the code uses, in the docs and in --help', () => {
    const docs = readFileSync(join(projectRoot, 'docs/configuration.md'), 'utf8');
    const table = docs.slice(docs.indexOf('## Exit codes'));
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((match) => Number(match[1]));
    expect(documented).toEqual(Object.values(ExitCode));
    const help = runCli(['--help']).stdout;
    const line = /Exit codes: (.*)/.exec(help)?.[1] ?? '';
    expect([...line.matchAll(/(\d+) /g)].map((match) => Number(match[1]))).toEqual(Object.values(ExitCode));
  });

  it('ships a JSON Schema that matches the schema in code', () => {
    const committed = readFileSync(join(projectRoot, 'agentium.schema.json'), 'utf8');
    expect(committed, 'agentium.schema.json drifted: run `npm run build && npm run schema`').toBe(configJsonSchema());
  });

  it('documents every config key in docs/configuration.md, generated from the schema', () => {
    const docs = readFileSync(join(projectRoot, 'docs/configuration.md'), 'utf8');
    expect(docs, 'docs/configuration.md drifted: run `npm run build && npm run schema`').toBe(withReference(docs));
    for (const key of ['provider', 'repo', 'github.appId', 'github.installationId', 'github.privateKeySecret', 'github.apiUrl', 'gcp.project', 'gcp.zones', 'gcp.serviceAccount', 'gcp.subnetwork', 'gcp.apiEndpoint', 'aws.region', 'aws.subnetIds', 'aws.securityGroupIds', 'aws.instanceProfile', 'aws.ami', 'aws.endpoint', 'agent.name', 'agent.image', 'agent.command', 'agent.llmKeySecret', 'egress.allow']) {
      expect(docs).toContain(`| \`${key}\` |`);
    }
  });
});

describe('start-up cost', () => {
  const heavy = /node_modules\/(@google-cloud|@aws-sdk|@octokit|google-auth-library|google-gax)\//;
  const commands: Array<[string, string[]]> = [
    ['--help', ['--help']],
    ['--version', ['--version']],
    ['run --dry-run', ['run', '--issue', '1', '--dry-run', '--json']],
    ['init', ['init', '--repo', 'a/b', '--yes', '--config', 'fresh.yaml']],
  ];
  for (const [name, args] of commands) {
    it(`${name} imports no cloud or GitHub SDK`, () => {
      const cwd = workdir(gcpConfig);
      const log = join(cwd, 'imports.log');
      writeFileSync(log, '');
      const result = runCli(args, {
        cwd,
        env: { RECORD_IMPORTS_LOG: log },
        nodeArgs: ['--import', join(projectRoot, 'test/support/record-imports.mjs')],
      });
      expect(result.status).toBe(0);
      const imports = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(imports.some((url) => url.includes('/dist/src/cli.js'))).toBe(true);
      expect(imports.filter((url) => heavy.test(url))).toEqual([]);
    });
  }
});
