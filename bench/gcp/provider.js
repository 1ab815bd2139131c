// GCP provider benchmarks (DESIGN §6), the real @google-cloud/compute client against the Compute fake:
// 1. `destroy --all` over 200 instances in 8 zones with 100 ms latency per API call, vs deleting
//    the same instances one after another (budget: ≥ 10× faster). The fake's `wait` completes the
//    operation like the real one (it blocks until DONE), so each deletion is delete + wait.
//    Then the same `destroy --all` when each deletion also takes 3 s server-side (real ones take
//    longer): all deletions are requested before any is awaited, so this costs ~one deletion.
// 2. `launch` wall time in a fresh process, provider and SDK import included.
// Usage: npx tsc -p tsconfig.build.json && node bench/gcp/provider.js [instances] [latencyMs]
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../../dist/src/config/schema.js';
import { gcpLabels } from '../../dist/src/labels.js';
import { createGcpProvider } from '../../dist/src/providers/gcp/provider.js';
import { loadComputeFake } from '../support/load-fakes.js';

const instances = Number(process.argv[2] ?? 200);
const latencyMs = Number(process.argv[3] ?? 100);
const zones = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f', 'us-east1-b', 'us-east1-c', 'europe-west1-b', 'europe-west1-c'];
const { startFakeCompute } = await loadComputeFake();

const config = (url) =>
  parseConfig({
    provider: 'gcp',
    repo: 'acme/widgets',
    github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' },
    gcp: { project: 'agentium-bench', zones, apiEndpoint: url },
  });

async function destroyAll(concurrency, operationMs) {
  const timing = operationMs === undefined ? { waitCompletes: true } : { operationMs };
  const fake = await startFakeCompute({ project: 'agentium-bench', zones, latencyMs, ...timing });
  for (let n = 0; n < instances; n++) {
    const id = `agentium-${n + 1}-bench${n}`;
    fake.seedInstance({ zone: zones[n % zones.length], name: id, labels: gcpLabels({ id, repo: 'acme/widgets', issue: n + 1, deadline: 2_000_000_000 }) });
  }
  for (let n = 0; n < 8; n++) fake.seedInstance({ zone: zones[n], name: `not-ours-${n}`, labels: { team: 'web' } });
  try {
    const provider = await createGcpProvider(config(fake.url), { credentials: 'none', pollIntervalMs: 0 });
    // The client initialises itself on its first call (≈ 1 s, paid once per process, and part of
    // the launch numbers below): warm it up so both runs measure the same thing.
    await provider.list();
    const callsBefore = fake.requests.length;
    const started = performance.now();
    const results = await provider.destroy('all', { concurrency });
    const ms = performance.now() - started;
    const left = fake.instances().filter((i) => i.labels['agentium-managed'] === 'true').length;
    const untouched = fake.instances().filter((i) => i.name.startsWith('not-ours-')).length;
    if (left !== 0 || untouched !== 8 || results.some((r) => r.outcome !== 'deleted')) {
      throw new Error(`wrong result: ${left} managed left, ${untouched}/8 unmanaged intact`);
    }
    return { ms, calls: fake.requests.length - callsBefore, peakInFlight: fake.peakInFlight };
  } finally {
    await fake.close();
  }
}

async function launchOnce(launchLatencyMs) {
  const fake = await startFakeCompute({ project: 'agentium-bench', zones, latencyMs: launchLatencyMs, waitCompletes: true });
  try {
    // Asynchronous spawn: the fake lives in this process's event loop.
    const child = spawn(process.execPath, [fileURLToPath(new URL('./launch-child.js', import.meta.url)), fake.url, 'agentium-bench', zones.join(',')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const started = performance.now();
    const code = await new Promise((resolve) => child.on('exit', resolve));
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`launch child exited ${code}`);
    return { wallMs: Math.round(wallMs), ...JSON.parse(out), calls: fake.requests.length };
  } finally {
    await fake.close();
  }
}

const bareNode = (() => {
  const runs = Array.from({ length: 5 }, () => {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    return performance.now() - started;
  }).sort((a, b) => a - b);
  return Math.round(runs[2]);
})();

const bounded = await destroyAll(16);
const serial = await destroyAll(1);
const deletionMs = 3000;
const slowDeletions = await destroyAll(16, deletionMs);
const launches = [];
for (const l of [0, 0, 0]) launches.push(await launchOnce(l));
const launchWithLatency = await launchOnce(latencyMs);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const report = {
  instances,
  zones: zones.length,
  latencyMs,
  destroyAll: { boundedMs: Math.round(bounded.ms), concurrency: 16, peakInFlight: bounded.peakInFlight, calls: bounded.calls },
  serialDelete: { ms: Math.round(serial.ms), calls: serial.calls },
  destroyAllWithServerSideDeletion: { deletionMs, boundedMs: Math.round(slowDeletions.ms), peakInFlight: slowDeletions.peakInFlight },
  speedup: Number((serial.ms / bounded.ms).toFixed(1)),
  launch: {
    bareNodeMs: bareNode,
    latency0: { wallMs: median(launches.map((l) => l.wallMs)), providerLoadMs: median(launches.map((l) => l.providerLoadMs)), launchCallMs: median(launches.map((l) => l.launchCallMs)), calls: launches[0].calls },
    [`latency${latencyMs}`]: launchWithLatency,
  },
};
console.log(JSON.stringify(report, null, 2));
if (report.speedup < 10) {
  console.error(`budget missed: destroy --all is only ${report.speedup}× faster than serial deletion (budget ≥ 10×)`);
  process.exitCode = 1;
}
