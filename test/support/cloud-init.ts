import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs Debian's `cloud-init schema --config-file` on user-data; throws with its output when invalid. */
export function assertValidCloudConfig(userData: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'agentium-cloud-init-'));
  try {
    const file = join(dir, 'user-data.yaml');
    writeFileSync(file, userData);
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    if (result.error) throw new Error(`cloud-init is not installed (apt-get install cloud-init): ${result.error.message}`);
    if (result.status !== 0 || !result.stdout.includes('Valid cloud-config')) {
      throw new Error(`cloud-init schema rejected the user-data:\n${result.stdout}${result.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
