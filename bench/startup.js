// Start-up budget (DESIGN §6): `agentium --help` / `--version` within 1.5× of a bare `node -e 0`,
// `run --dry-run` within 3×. Runs each command many times, interleaved, and reports medians.
// Usage: npm run build && node bench/startup.js [runs]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'agentium-bench-startup-'));
writeFileSync(
  join(cwd, '.agentium.yaml'),
  'provider: gcp\nrepo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: agentium-github-app-key\ngcp:\n  project: acme-agents\naws:\n  region: eu-west-1\n',
);

const cases = [
  ['node -e 0 (baseline)', ['-e', '0']],
  ['agentium --help', [cli, '--help']],
  ['agentium --version', [cli, '--version']],
  ['agentium run --dry-run (gcp)', [cli, 'run', '--issue', '1', '--dry-run', '--json']],
  ['agentium run --dry-run (aws)', [cli, 'run', '--issue', '1', '--provider', 'aws', '--dry-run', '--json']],
];

const samples = new Map(cases.map(([name]) => [name, []]));
for (let round = 0; round < runs + 2; round++) {
  for (const [name, args] of cases) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    if (round >= 2) samples.get(name).push(ms); // two warm-up rounds fill the page cache
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const baseline = median(samples.get(cases[0][0]));
const budgets = { 'agentium --help': 1.5, 'agentium --version': 1.5, 'agentium run --dry-run (gcp)': 3, 'agentium run --dry-run (aws)': 3 };
console.log(`Node ${process.version}, ${runs} runs each, medians`);
console.log('| command | median ms | × node -e 0 | budget |');
console.log('|---|---|---|---|');
let failed = false;
for (const [name] of cases) {
  const value = median(samples.get(name));
  const ratio = value / baseline;
  const budget = budgets[name];
  if (budget && ratio > budget) failed = true;
  console.log(`| ${name} | ${value.toFixed(1)} | ${ratio.toFixed(2)} | ${budget ? `≤ ${budget}×` : ''} |`);
}
if (failed) {
  console.error('over budget');
  process.exitCode = 1;
}
