// Agent container start (DESIGN §6, "controller overhead"): from the `runAgentContainer` call to the
// agent running (its first output, an `echo ready` agent), plus the agent network's create and
// remove cost (network + firewall rules). Real Docker Engine, test agent image built locally.
// Usage: npx tsc -p tsconfig.build.json && node bench/controller/agent-container-start.js [runs]
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { runAgentContainer } from '../../dist/controller/docker/agent-container.js';
import { createAgentNetwork } from '../../dist/controller/docker/network.js';
import { agentContainerPlan } from '../../dist/src/session/container.js';
import { buildTestAgentImage, scenarioPrompt, testLabel } from '../../test/fakes/agent-image/build.js';

const runs = Number(process.argv[2] ?? 15);
const warmup = 2;
const image = await buildTestAgentImage();
const root = mkdtempSync(join(tmpdir(), 'agentium-bench-agent-'));
const workspaceDir = join(root, 'workspace');
mkdirSync(workspaceDir);
chownSync(workspaceDir, 1000, 1000);
const promptFile = join(root, 'prompt.md');
writeFileSync(promptFile, scenarioPrompt('ready'), { mode: 0o644 });

/** The session fields the plan reads; the rest of a spec does not matter here. */
function sessionSpec(round) {
  return {
    id: `agentium-bench-${process.pid}-${round}`,
    issue: 1,
    branch: 'agentium/issue-1',
    agent: { image, command: undefined, user: '1000:1000', timeoutSeconds: 60, limits: { cpus: 1, memoryBytes: 512 * 1024 ** 2, pids: 256 } },
    egress: { allow: [] },
  };
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const samples = { networkCreate: [], networkRemove: [], callToFirstOutput: [], callToReturn: [], dockerRunCli: [] };

async function agentRound(round) {
  const spec = sessionSpec(round);
  let start = process.hrtime.bigint();
  const network = await createAgentNetwork(spec, { labels: testLabel });
  const networkCreate = ms(start);
  let firstOutput;
  start = process.hrtime.bigint();
  const result = await runAgentContainer(agentContainerPlan(spec), {
    network,
    workspaceDir,
    promptFile,
    redact: () => new PassThrough(),
    onOutput: (chunk) => {
      if (firstOutput === undefined && chunk.toString().includes('ready')) firstOutput = ms(start);
    },
  });
  const callToReturn = ms(start);
  if (result.exitCode !== 0 || firstOutput === undefined) throw new Error(`agent did not say ready: ${JSON.stringify(result)}`);
  return { networkCreate, callToFirstOutput: firstOutput, callToReturn };
}

async function networkOnlyRound(round) {
  const spec = sessionSpec(`net-${round}`);
  const start = process.hrtime.bigint();
  const network = await createAgentNetwork(spec, { labels: testLabel });
  const created = ms(start);
  const removeStart = process.hrtime.bigint();
  await network.remove();
  return { created, removed: ms(removeStart) };
}

/** Reference point: the docker CLI starting the same image (no network, no limits) to first output. */
async function dockerRunCli() {
  const start = process.hrtime.bigint();
  await promisify(execFile)('docker', ['run', '--rm', '--network', 'none', '--label', 'agentium-test=1', '--entrypoint', 'echo', image, 'ready']);
  return ms(start);
}

try {
  for (let round = 0; round < runs + warmup; round++) {
    const agent = await agentRound(round);
    const network = await networkOnlyRound(round);
    const cli = await dockerRunCli();
    if (round < warmup) continue;
    samples.callToFirstOutput.push(agent.callToFirstOutput);
    samples.callToReturn.push(agent.callToReturn);
    samples.networkCreate.push(network.created);
    samples.networkRemove.push(network.removed);
    samples.dockerRunCli.push(cli);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p90 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];
const rows = {
  'runAgentContainer call → first output (agent running)': samples.callToFirstOutput,
  'runAgentContainer call → returned (exit, container + network removed)': samples.callToReturn,
  'createAgentNetwork (network + 8 firewall rules)': samples.networkCreate,
  'AgentNetwork.remove (network + rules)': samples.networkRemove,
  'reference: `docker run --rm --network none … echo ready` (CLI)': samples.dockerRunCli,
};
console.log(`agent container start, ${runs} runs after ${warmup} warm-up (ms)`);
for (const [name, values] of Object.entries(rows)) {
  console.log(`${median(values).toFixed(0).padStart(6)} median ${p90(values).toFixed(0).padStart(6)} p90  ${name}`);
}
