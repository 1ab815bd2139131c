/**
 * One controller session for the tests: the fake GitHub (REST + real git over smart HTTP), an App
 * installed on a small repository, an issue whose body drives the test agent image, the local
 * controller cloud, the real redactor and the real Docker runtime. Everything the controller
 * emitted is collected so tests can search it for secrets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/schema.js';
import { Redactor } from '../../src/redactor/index.js';
import { buildSessionSpec, type SessionSpec } from '../../src/session/spec.js';
import { createLocalControllerCloud, type LocalControllerCloud } from '../../controller/cloud/local.js';
import { runSession, type ControllerDeps, type SessionResult } from '../../controller/lifecycle.js';
import { dockerAgentRuntime, type AgentRuntime } from '../../controller/steps/agent.js';
import { startFakeGitHub, type FakeApp, type FakeGitHub } from '../fakes/github/index.js';
import { buildTestAgentImage, testLabel } from '../fakes/agent-image/build.js';

const exec = promisify(execFile);
export const repoName = 'acme/widgets';

export interface SessionWorld {
  github: FakeGitHub;
  app: FakeApp;
  image: string;
  issue: number;
  stateDir: string;
  keyFile: string;
  /** File holding the LLM key (`agent.llmKeySecret` = `agentium-llm-key`), when the world has one. */
  llmKeyFile: string | undefined;
  llmKey: string | undefined;
  spec: SessionSpec;
  cleanup(): Promise<void>;
}

export async function sessionWorld(options: {
  /** A function gets the App (its key is known only once the fake created it). */
  issueBody: string | ((app: FakeApp) => string);
  issueTitle?: string;
  agentTimeout?: string;
  files?: Record<string, string>;
  /** Served by the local cloud as `agent.llmKeySecret`. */
  llmKey?: string;
}): Promise<SessionWorld> {
  const image = await buildTestAgentImage();
  const github = await startFakeGitHub();
  const app = github.state.createApp({ slug: 'agentium-test' });
  await github.state.createRepo(repoName, { files: options.files ?? { 'README.md': '# widgets\n', 'src/widget.txt': 'old\n' } });
  github.state.install(app, 'acme', ['widgets']);
  const issue = github.state.addIssue(repoName, { title: options.issueTitle ?? 'Make the widget better', body: typeof options.issueBody === 'string' ? options.issueBody : options.issueBody(app) }).number;
  const stateDir = await mkdtemp(join(tmpdir(), 'agentium-controller-'));
  const keyDir = await mkdtemp(join(tmpdir(), 'agentium-key-'));
  const keyFile = join(keyDir, 'app.pem');
  await writeFile(keyFile, app.privateKey, { mode: 0o600 });
  const llmKeyFile = options.llmKey === undefined ? undefined : join(keyDir, 'llm.key');
  if (llmKeyFile) await writeFile(llmKeyFile, `${options.llmKey}\n`, { mode: 0o600 });
  const config = parseConfig({
    provider: 'local',
    repo: repoName,
    github: { appId: app.id, privateKeySecret: 'agentium-app-key', apiUrl: github.apiUrl },
    agent: { image, timeout: options.agentTimeout ?? '60s', ...(llmKeyFile ? { llmKeySecret: 'agentium-llm-key' } : {}) },
    egress: { allow: [] },
    session: { lifetime: '10m' },
  });
  const spec = buildSessionSpec(config, { provider: 'local', issue, now: new Date(), nonce: randomBytes(4).toString('hex') });
  return {
    github,
    app,
    image,
    issue,
    stateDir,
    keyFile,
    llmKeyFile,
    llmKey: options.llmKey,
    spec,
    async cleanup() {
      await github.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}

export interface SessionRun {
  result: SessionResult;
  cloud: LocalControllerCloud;
  /** Every line the controller and its local cloud emitted. */
  lines: string[];
}

export async function runWorldSession(world: SessionWorld, overrides: Partial<ControllerDeps> & { runtime?: AgentRuntime } = {}): Promise<SessionRun> {
  const lines: string[] = [];
  const write = (line: string) => lines.push(line);
  const cloud = createLocalControllerCloud({ stateDir: world.stateDir, secretFiles: { 'agentium-app-key': world.keyFile, ...(world.llmKeyFile ? { 'agentium-llm-key': world.llmKeyFile } : {}) }, env: {}, write });
  const result = await runSession({
    spec: world.spec,
    cloud,
    redactor: new Redactor(),
    runtime: dockerAgentRuntime({ labels: testLabel }),
    stateDir: world.stateDir,
    write,
    sleep: async () => undefined,
    ...overrides,
  });
  return { result, cloud, lines };
}

/** Every installation token the fake minted (the values the controller must never leak). */
export function mintedTokens(github: FakeGitHub): string[] {
  return [...github.state.tokens.values()].filter((token) => token.kind === 'installation').map((token) => token.token);
}

export function revocations(github: FakeGitHub): number {
  return github.requests.filter((r) => r.method === 'DELETE' && r.url.endsWith('/installation/token') && r.status === 204).length;
}

export function pushes(github: FakeGitHub): number {
  return github.requests.filter((r) => r.kind === 'git' && r.method === 'POST' && r.url.endsWith('/git-receive-pack')).length;
}

/** What the fake shows on GitHub: the status comment(s) and PRs of the world's issue. */
export function issueComments(world: SessionWorld): string[] {
  return world.github.state.comments.filter((c) => c.issueNumber === world.issue).map((c) => c.body);
}

export async function gitShow(world: SessionWorld, revision: string): Promise<string> {
  const repo = world.github.state.mustRepo(repoName);
  const { stdout } = await exec('git', ['--git-dir', repo.gitDir, 'show', revision]);
  return stdout;
}

/** Each line of the App key body. */
export function appKeyLines(world: SessionWorld): string[] {
  return world.app.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
}

/** Secret material the controller learned: tokens, each line of the App key body, the LLM key. */
export function secretNeedles(world: SessionWorld): string[] {
  return [...mintedTokens(world.github), ...appKeyLines(world), ...(world.llmKey ? [world.llmKey] : [])];
}
