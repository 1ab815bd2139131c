// Runs every benchmark in bench/ one after another with its recorded arguments (`npm run bench`).
// The Docker-backed ones need a running dockerd (see .ci/run). Results go to stdout; the figures
// recorded in docs/performance.md come from these same commands.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = [
  ['startup.js', ['30']],
  ['redact/run.js', ['50', '100']],
  ['gcp/provider.js', ['200', '100']],
  ['aws/provider.js', ['200', '100']],
  ['controller/agent-container-start.js', ['21']],
  ['controller/session-overhead.js', ['9']],
];

let failed = 0;
for (const [script, args] of benches) {
  const path = fileURLToPath(new URL(script, import.meta.url));
  console.log(`\n### node bench/${script} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, ['--expose-gc', path, ...args], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed > 0 ? 1 : 0;
