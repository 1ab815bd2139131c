/**
 * Runs the built CLI and interrupts it the way a person (Ctrl-C → SIGINT) or a cancelled CI job
 * (SIGTERM) does: the signal is sent once stderr shows `when`, i.e. while the launch is under way.
 */
import { spawn } from 'node:child_process';
import { cliPath, type CliResult } from '../support/cli.js';

export interface InterruptedRun extends CliResult {
  /** stderr up to the moment the signal was sent. */
  stderrAtSignal: string;
}

export function runCliAndInterrupt(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; when: RegExp; signal: NodeJS.Signals },
): Promise<InterruptedRun> {
  return new Promise((resolve, reject) => {
    // As test/support/cli.ts does: the developer's own AGENTIUM_* variables must not leak in.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AGENTIUM_')));
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd, env: { ...inherited, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stderrAtSignal: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderrAtSignal === undefined && options.when.test(stderr)) {
        stderrAtSignal = stderr;
        child.kill(options.signal);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (stderrAtSignal === undefined) reject(new Error(`the CLI ended before printing ${options.when}: ${stderr}`));
      else resolve({ status, stdout, stderr, stderrAtSignal });
    });
  });
}
