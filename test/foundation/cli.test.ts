import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const awsConfig = 'provider: aws\nrepo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: agentium-github-app-key\naws:\n  region: eu-west-1\n';
const gcpConfig = 'provider: gcp\nrepo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: agentium-github-app-key\ngcp:\n  project: acme-agents\n';

describe('agentium CLI', () => {
  it('prints help listing every command with examples, and the version', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['run', 'init', 'status', 'destroy', 'redact']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('Exit codes:');
    // One sentence, wrapped by commander at the width, not broken by hand after "short-lived,".
    expect(help.stdout).toContain('on a\nshort-lived, least-privilege cloud VM that deletes itself.');
    const runHelp = runCli(['run', '--help']);
    expect(runHelp.stdout).toContain('agentium run --issue 123 --dry-run');
    const version = runCli(['--version']);
    const { version: expected } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(expected);
  });

  it('answers --help and --version from what the build stored, exactly as commander does, without loading it', () => {
    // `agentium help` always goes through commander; `--help` alone is printed from dist/help.txt.
    const live = runCli(['help']);
    expect(live.status).toBe(0);
    for (const flag of ['--help', '-h']) expect(runCli([flag])).toEqual({ status: 0, stdout: live.stdout, stderr: '' });
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) expect(runCli([flag])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
    const cwd = workdir();
    const log = join(cwd, 'imports.log');
    for (const flag of ['--help', '--version']) {
      writeFileSync(log, '');
      expect(runCli([flag], { cwd, env: { RECORD_IMPORTS_LOG: log }, nodeArgs: ['--import', join(projectRoot, 'test/support/record-imports.mjs')] }).status).toBe(0);
      const imports = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(imports.some((url) => url.endsWith('/dist/cli/bin.js'))).toBe(true);
      // Nothing but the entry file: no CLI chunk, no commander.
      expect(imports.filter((url) => url.startsWith('file:') && !url.endsWith('/dist/cli/bin.js'))).toEqual([]);
    }
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
    // Until the egress proxy exists the agent network has no way out: the plan must not promise one.
    expect(result.stdout).toMatch(/network\s+internal; no egress \(the proxy that will allow api\.anthropic\.com is not built yet\)/);
    const json = JSON.parse(runCli(['run', '--issue', '42', '--dry-run', '--json'], { cwd: workdir(gcpConfig) }).stdout) as { container: { network: unknown } };
    expect(json.container.network).toMatchObject({ internal: true, egress: 'none', allow: ['api.anthropic.com'] });
  });

  const badInputs: Array<[string, string[], string | undefined, number, RegExp]> = [
    ['issue not a positive integer', ['run', '--issue', '1.5', '--dry-run'], gcpConfig, 2, /issue must be a positive integer/],
    ['issue missing', ['run', '--dry-run'], gcpConfig, 2, /required option '-i, --issue <number>' not specified/],
    ['repo not owner/name', ['run', '--issue', '1', '--repo', 'widgets', '--dry-run'], gcpConfig, 2, /flag --repo: "repo": must be owner\/name/],
    ['provider settings missing', ['run', '--issue', '1', '--dry-run'], 'provider: gcp\nrepo: a/b\n', 2, /gcp\.project \(or AGENTIUM_GCP_PROJECT\)/],
    ['invalid YAML', ['run', '--issue', '1', '--dry-run'], 'provider: gcp\n  repo: [\n', 2, /\.agentium\.yaml:\d+:\d+: invalid YAML/],
    ['unknown key', ['run', '--issue', '1', '--dry-run'], `${gcpConfig}colour: blue\n`, 2, /\.agentium\.yaml:8:1: "colour": unknown key/],
    ['lifetime out of range', ['run', '--issue', '1', '--lifetime', '200d', '--dry-run'], gcpConfig, 2, /^(agentium: )?flag --lifetime: "session\.lifetime": 200d is outside what gcp allows \(5 minutes to 120 days\)$/m],
    ['lifetime out of range, from the file', ['run', '--issue', '1', '--dry-run'], `${awsConfig}session:\n  lifetime: 30d\n`, 2, /\.agentium\.yaml:9:3: "session\.lifetime": 30d is outside what aws allows \(5 minutes to 7 days\)/],
    ['agent timeout not shorter than the lifetime', ['run', '--issue', '1', '--dry-run'], `${gcpConfig}agent:\n  timeout: 3h\n`, 2, /\.agentium\.yaml:9:3: "agent\.timeout": agent\.timeout 3h must be shorter than the session lifetime 2h/],
    ['required key missing from a section', ['run', '--issue', '1', '--dry-run'], 'provider: gcp\nrepo: acme/widgets\ngithub:\n  appId: 1\n  privateKeySecret: k\ngcp:\n  zones: [us-central1-a]\n', 2, /\.agentium\.yaml:6:1: "gcp\.project": missing required key \(or AGENTIUM_GCP_PROJECT\)/],
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

  it('reports every required key missing from a section, at the section, never as an unknown key', () => {
    const config = 'provider: gcp\nrepo: acme/widgets\ngithub:\n  appId: 1\ngcp:\n  zones: [us-central1-a]\n';
    const result = runCli(['run', '--issue', '3', '--dry-run'], { cwd: workdir(config) });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('.agentium.yaml:3:1: "github.privateKeySecret": missing required key (or AGENTIUM_GITHUB_PRIVATE_KEY_SECRET)\n');
    expect(result.stderr).toContain('.agentium.yaml:5:1: "gcp.project": missing required key (or AGENTIUM_GCP_PROJECT)\n');
    expect(result.stderr).not.toContain('unknown key');
  });

  it('names the environment variable that started a section with a required key missing', () => {
    const result = runCli(['run', '--issue', '3', '--dry-run'], { cwd: workdir('provider: gcp\nrepo: acme/widgets\ngcp:\n  project: acme-agents\n'), env: { AGENTIUM_GITHUB_APP_ID: '5' } });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^agentium: environment variable AGENTIUM_GITHUB_APP_ID: "github\.privateKeySecret": missing required key \(or AGENTIUM_GITHUB_PRIVATE_KEY_SECRET\)$/m);
  });

  it("ignores Agentium's own and unrelated AGENTIUM_ variables, and refuses misspelt config keys", () => {
    const cwd = workdir(gcpConfig);
    const unrelated = { AGENTIUM_STATE_DIR: '/tmp/state', AGENTIUM_SESSION_FILE: '/tmp/session.json', AGENTIUM_DEBUG: '1', AGENTIUM_BUILD_NUMBER: '77' };
    expect(runCli(['run', '--issue', '1', '--dry-run', '--json'], { cwd, env: unrelated }).status).toBe(0);
    const typos: Array<[string, string]> = [
      ['AGENTIUM_GCP_PROJET', 'AGENTIUM_GCP_PROJECT'],
      ['AGENTIUM_GPC_PROJECT', 'AGENTIUM_GCP_PROJECT'],
      ['AGENTIUM_SESSION_LIFETIM', 'AGENTIUM_SESSION_LIFETIME'],
      ['AGENTIUM_REGION', 'AGENTIUM_AWS_REGION'],
    ];
    for (const [typo, meant] of typos) {
      const result = runCli(['run', '--issue', '1', '--dry-run'], { cwd, env: { [typo]: 'x' } });
      expect(result.status, typo).toBe(2);
      expect(result.stderr).toContain(`environment variable ${typo} is not a configuration key; did you mean ${meant}?`);
    }
  });

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

  /** Runs the CLI on a real pseudo-terminal (`script`, util-linux), as a person at a shell would. */
  function onTerminal(args: string, input: string, cwd: string) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'CI' && !name.startsWith('AGENTIUM_')));
    return spawnSync('script', ['-qec', `${process.execPath} ${cliPath} ${args}`, '/dev/null'], { cwd, env, input, encoding: 'utf8', timeout: 20_000 });
  }

  it('init asks on a terminal, re-asking for an invalid provider', () => {
    const cwd = workdir();
    const result = onTerminal('init', 'azure\naws\nacme/widgets\n999\n\neu-west-1\n', cwd);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.match(/Provider \(gcp\/aws\/local\) \[local\]: /g)).toHaveLength(2);
    const text = readFileSync(join(cwd, '.agentium.yaml'), 'utf8');
    expect(text).toContain('provider: aws\nrepo: acme/widgets\ngithub:\n  appId: 999\n  privateKeySecret: agentium-github-app-key\naws:\n  region: eu-west-1\n');
  });

  it('init re-asks each bad answer on a terminal as soon as it is given', () => {
    const cwd = workdir();
    const result = onTerminal('init --provider gcp', 'widgets\nacme/widgets\n12345\n\nBad_Project\nacme-agents\n', cwd);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    // Each complaint comes right after its own question, before the next question is asked.
    expect(result.stdout).toMatch(/Repository \(owner\/name\): "repo": must be owner\/name; please try again\r?\nRepository \(owner\/name\): GitHub App id: /);
    expect(result.stdout).toMatch(/GCP project id: "gcp\.project": must be a GCP project id; please try again\r?\nGCP project id: wrote /);
    expect(readFileSync(join(cwd, '.agentium.yaml'), 'utf8')).toContain('repo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: agentium-github-app-key\ngcp:\n  project: acme-agents\n');
  });

  it('init on a terminal refuses a bad flag before asking anything', () => {
    const cwd = workdir();
    const result = onTerminal('init --repo nope', 'gcp\n', cwd);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^agentium: flag --repo: "repo": must be owner\/name\r?$/m);
    expect(result.stdout).not.toContain('Provider');
    expect(existsSync(join(cwd, '.agentium.yaml'))).toBe(false);
  });

  it('init --yes names the bad flag and the real file, and writes nothing', () => {
    const cwd = workdir();
    const result = runCli(['init', '--yes', '--repo', 'bad', '-c', 'w.yaml'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^agentium: flag --repo: "repo": must be owner\/name$/m);
    expect(result.stderr).not.toContain('.tmp');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('init --yes takes the same default provider as the questions: the config default, local', () => {
    const cwd = workdir();
    expect(runCli(['init', '--yes', '--repo', 'acme/widgets'], { cwd }).status).toBe(0);
    expect(readFileSync(join(cwd, '.agentium.yaml'), 'utf8')).toMatch(/^provider: local\nrepo: acme\/widgets\n$/m);
  });

  it('init without a terminal hints with a command line for the chosen provider', () => {
    const aws = runCli(['init', '--provider', 'aws'], { cwd: workdir() });
    expect(aws.stderr).toContain('hint: e.g. agentium init --provider aws --repo acme/widgets --app-id 12345 --region eu-west-1 --yes');
    const gcp = runCli(['init', '--provider', 'gcp'], { cwd: workdir() });
    expect(gcp.stderr).toContain('hint: e.g. agentium init --provider gcp --repo acme/widgets --app-id 12345 --project my-project --yes');
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
      expect(imports.some((url) => url.endsWith('/dist/cli/bin.js'))).toBe(true);
      expect(imports.filter((url) => heavy.test(url))).toEqual([]);
    });
  }
});
