// Builds the test agent image from local files only (busybox-static; nothing is pulled), tagged
// by a hash of its content so repeated runs reuse it. Plain ESM JavaScript (with build.d.ts) so the
// TypeScript tests and the plain-JS benchmarks share it.
//
// Uses the docker CLI, not the Engine API: building needs a tar of the context, which `docker build`
// already makes; this is test tooling, and nothing secret is involved.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const busybox = '/bin/busybox';
const contextFiles = ['Dockerfile', 'passwd', 'group', 'run.sh'];

/** Label on everything the tests create, so leftovers can be found and removed. */
export const testLabel = { 'agentium-test': '1' };
export const testAgentImageRepository = 'agentium-test-agent';

function contentHash() {
  const hash = createHash('sha256');
  const scenarios = readdirSync(join(here, 'scenarios')).sort();
  for (const file of [...contextFiles, ...scenarios.map((name) => join('scenarios', name))]) {
    hash.update(file).update('\0').update(readFileSync(join(here, file))).update('\0');
  }
  hash.update(readFileSync(busybox));
  return hash.digest('hex').slice(0, 16);
}

async function imageExists(tag) {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]);
    return true;
  } catch {
    return false;
  }
}

/** Returns the image tag (`agentium-test-agent:<hash>`), building it only when absent. */
export async function buildTestAgentImage() {
  const tag = `${testAgentImageRepository}:${contentHash()}`;
  if (await imageExists(tag)) return tag;
  const context = mkdtempSync(join(tmpdir(), 'agentium-agent-image-'));
  try {
    for (const file of contextFiles) cpSync(join(here, file), join(context, file));
    cpSync(join(here, 'scenarios'), join(context, 'scenarios'), { recursive: true });
    cpSync(busybox, join(context, 'busybox'));
    const labels = Object.entries(testLabel).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    await run('docker', ['build', '--quiet', '--tag', tag, ...labels, context], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

/** A prompt file body that makes the test agent run one scenario (see run.sh). */
export function scenarioPrompt(name, ...args) {
  return `# Test issue\n\nscenario: ${[name, ...args].join(' ')}\n`;
}

/** A prompt file body that makes the test agent run a shell script. */
export function scriptPrompt(script) {
  return `# Test issue\n\n\`\`\`sh\n${script}\n\`\`\`\n`;
}
