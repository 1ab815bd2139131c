// Controller session overhead (DESIGN §6): how long the controller itself takes, in the local setup
// (fake GitHub + real `git http-backend` + local Docker Engine + the test agent image), for
//   - start → agent container running: secrets, App JWT + installation token, issue fetch, clone of
//     a small repository, branch, prompt file, agent network + firewall rules, container start
//     (the agent's first output marks it running);
//   - total non-agent time per session: everything except the agent process's own run time
//     (start → exit), i.e. the above plus policy gate, commit, push, draft PR, status comment,
//     token revocation, status report and terminate.
// Each session is a full `runSession` with an agent that edits one file (a real push and PR).
// Usage: npm run build && node bench/controller/session-overhead.js [runs]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { runSession } from '../../dist/controller/lifecycle.js';
import { createLocalControllerCloud } from '../../dist/controller/cloud/local.js';
import { dockerAgentRuntime } from '../../dist/controller/steps/agent.js';
import { parseConfig } from '../../dist/src/config/schema.js';
import { Redactor } from '../../dist/src/redactor/index.js';
import { buildSessionSpec } from '../../dist/src/session/spec.js';
import { buildTestAgentImage, scenarioPrompt, testLabel } from '../../test/fakes/agent-image/build.js';

const runs = Number(process.argv[2] ?? 7);
const warmup = 1;
const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The fake GitHub is TypeScript under test/fakes/github: transpile it (types stripped, nothing
 * else) under node_modules/.cache so its bare imports (ajv) resolve and its fixture path holds.
 */
async function loadFakeGitHub() {
  const out = join(root, 'node_modules', '.cache', 'agentium-bench');
  const source = join(root, 'test', 'fakes', 'github');
  const target = join(out, 'test', 'fakes', 'github');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(source).filter((name) => name.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(source, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(join(target, file.replace(/\.ts$/, '.js')), outputText);
  }
  mkdirSync(join(out, 'test', 'fixtures'), { recursive: true });
  symlinkSync(join(root, 'test', 'fixtures', 'github-openapi.json'), join(out, 'test', 'fixtures', 'github-openapi.json'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(target, 'index.js')).href);
}

const { startFakeGitHub } = await loadFakeGitHub();
const image = await buildTestAgentImage();
const github = await startFakeGitHub();
const app = github.state.createApp({ slug: 'agentium-bench' });
// A small repository: a few dozen files.
const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`src/module-${i}.txt`, `module ${i}\n`.repeat(50)]));
await github.state.createRepo('acme/bench', { files: { 'README.md': '# bench\n', ...files } });
github.state.install(app, 'acme', ['bench']);
const keyDir = mkdtempSync(join(tmpdir(), 'agentium-bench-key-'));
const keyFile = join(keyDir, 'app.pem');
writeFileSync(keyFile, app.privateKey, { mode: 0o600 });

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function session(round) {
  const issue = github.state.addIssue('acme/bench', { title: `Bench ${round}`, body: scenarioPrompt('edit-file', `src/module-${round % 40}.txt`, `edited ${round}`) }).number;
  const config = parseConfig({
    provider: 'local',
    repo: 'acme/bench',
    github: { appId: app.id, privateKeySecret: 'app-key', apiUrl: github.apiUrl },
    agent: { image, timeout: '60s' },
    egress: { allow: [] },
  });
  const spec = buildSessionSpec(config, { provider: 'local', issue, now: new Date(), nonce: `b${process.pid}r${round}` });
  const stateDir = mkdtempSync(join(tmpdir(), 'agentium-bench-session-'));
  const docker = dockerAgentRuntime({ labels: testLabel });
  let firstOutput;
  let agentRunMs;
  const runtime = {
    async run(request) {
      const result = await docker.run({
        ...request,
        onOutput: (chunk, stream) => {
          firstOutput ??= performance.now();
          request.onOutput(chunk, stream);
        },
      });
      agentRunMs = result.durationMs;
      return result;
    },
  };
  const start = performance.now();
  const result = await runSession({
    spec,
    cloud: createLocalControllerCloud({ stateDir, secretFiles: { 'app-key': keyFile }, env: {}, write: () => undefined }),
    redactor: new Redactor(),
    runtime,
    stateDir,
    write: () => undefined,
    now: () => Math.round(performance.timeOrigin + performance.now()),
  });
  const total = performance.now() - start;
  rmSync(stateDir, { recursive: true, force: true });
  if (result.outcome.kind !== 'success') throw new Error(`session ${round} ended ${result.outcome.kind}: ${result.summary}`);
  const t = result.timings;
  return {
    startToAgentRunning: firstOutput - start,
    // DESIGN §6's "controller overhead": start → agent running, without the clone (no pull happens here).
    startToAgentRunningWithoutClone: firstOutput - start - (t.agent - t.workspace),
    secretsTokenIssue: t.workspace - t.start,
    cloneAndBranch: t.agent - t.workspace,
    // Agent network + firewall rules, container create/attach/start, first output.
    containerStart: firstOutput - start - (t.agent - t.start),
    totalNonAgent: total - agentRunMs,
    total,
    agentRun: agentRunMs,
    // Output drain, container and network (firewall rules) removal after the agent exited.
    agentTeardown: t.agentEnd - t.start - (firstOutput - start) - agentRunMs,
    afterAgent: t.end - t.agentEnd,
  };
}

const samples = {};
for (let round = 0; round < warmup + runs; round++) {
  const sample = await session(round);
  if (round < warmup) continue;
  for (const [key, value] of Object.entries(sample)) (samples[key] ??= []).push(value);
}
await github.close();
rmSync(keyDir, { recursive: true, force: true });

const rows = Object.entries(samples).map(([key, values]) => ({ measure: key, medianMs: Math.round(median(values)), minMs: Math.round(Math.min(...values)), maxMs: Math.round(Math.max(...values)) }));
console.table(rows);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'controller-session-overhead.json'), `${JSON.stringify({ runs, date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
