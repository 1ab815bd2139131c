/**
 * The controller's cloud when there is no cloud (`agentium run --local`, tests, the simulator's
 * host process). Same interface as gcp/aws (./types.ts):
 *
 * - readSecret(reference), first match wins:
 *   1. an explicit file for that reference (local mode maps github.privateKeySecret to the file
 *      named by GITHUB_APP_PRIVATE_KEY_FILE);
 *   2. a file named like the reference in the secrets directory (`/` and `:` become `_`);
 *   3. an environment variable of exactly that name (`GITHUB_TOKEN`, `ANTHROPIC_API_KEY`, …).
 * - reportStatus: the latest phase (with a history) in `<state>/status.json`, one line on stderr.
 * - terminateSelf: there is no VM; the call is recorded (`<state>/terminate-self.json`, and
 *   `terminateCalls`) so tests and users can see the final step ran.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../src/errors.js';
import type { ControllerCloud } from './types.js';

export interface LocalCloudOptions {
  stateDir: string;
  secretsDir?: string;
  /** reference → file holding the value. */
  secretFiles?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Status lines (default: stderr). */
  write?: (line: string) => void;
  now?: () => number;
}

export interface LocalControllerCloud extends ControllerCloud {
  readonly name: 'local';
  readonly statusFile: string;
  /** How many times terminateSelf was called. */
  readonly terminateCalls: number;
  readonly phases: string[];
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function createLocalControllerCloud(options: LocalCloudOptions): LocalControllerCloud {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const statusFile = join(options.stateDir, 'status.json');
  const history: Array<{ phase: string; at: string; detail: Record<string, string> }> = [];
  let terminateCalls = 0;

  const readIfExists = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };

  return {
    name: 'local',
    statusFile,
    get terminateCalls() {
      return terminateCalls;
    },
    get phases() {
      return history.map((entry) => entry.phase);
    },

    async readSecret(reference) {
      const mapped = options.secretFiles?.[reference];
      if (mapped !== undefined) {
        const value = await readIfExists(mapped);
        if (value === undefined) throw new NotFoundError(`the file ${mapped} for secret ${reference} does not exist`);
        return value;
      }
      if (options.secretsDir && !reference.split(/[/:]/).includes('..')) {
        const value = await readIfExists(join(options.secretsDir, reference.replace(/[/:]/g, '_')));
        if (value !== undefined) return value;
      }
      const fromEnv = envName.test(reference) ? env[reference] : undefined;
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      throw new NotFoundError(`local mode found no value for the secret ${reference}`, {
        hint:
          reference === 'GITHUB_TOKEN'
            ? 'set GITHUB_TOKEN (a token for your own repository) or configure a GitHub App with GITHUB_APP_PRIVATE_KEY_FILE (docs/local-mode.md)'
            : `put it in a file named ${reference.replace(/[/:]/g, '_')} in the secrets directory, or in an environment variable of that name (docs/local-mode.md)`,
      });
    },

    async reportStatus(phase, detail = {}) {
      history.push({ phase, at: new Date(now()).toISOString(), detail });
      const document = { phase, at: history.at(-1)?.at, detail, history };
      await writeFile(`${statusFile}.tmp`, `${JSON.stringify(document, null, 2)}\n`);
      await rename(`${statusFile}.tmp`, statusFile);
      write(`agentium: ${phase}${detail.summary ? `: ${detail.summary}` : ''}`);
    },

    async terminateSelf() {
      terminateCalls += 1;
      await writeFile(join(options.stateDir, 'terminate-self.json'), `${JSON.stringify({ calls: terminateCalls, at: new Date(now()).toISOString() })}\n`);
    },
  };
}
