import { toAgentiumError, type AgentiumError } from './errors.js';

/** The EPIPE error stdout raised when its reader went away, once that happened. */
let stdoutClosedBy: Error | undefined;

/**
 * A reader that stops early (`agentium redact | head`) is not a failure. C tools die of SIGPIPE
 * there; Node ignores that signal, so instead the command ends quietly with exit code 0 (no message,
 * no new exit code). Called once at start-up; any other stdout error still fails loudly.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosedBy = error;
  });
}

/** True for the error a command saw because stdout's reader went away. */
export function isStdoutClosed(error: unknown): boolean {
  return stdoutClosedBy !== undefined && error === stdoutClosedBy;
}

/** `--json` output: exactly one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Human progress and diagnostics go to stderr so stdout stays clean for data. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * The single top-level error handler: JSON on stdout with `--json`, readable text on stderr
 * otherwise. Returns the exit code for the caller to set.
 */
export function reportError(error: unknown, json: boolean): number {
  const agentiumError: AgentiumError = toAgentiumError(error);
  if (json) {
    printJson(agentiumError.toJSON());
  } else {
    process.stderr.write(`agentium: ${agentiumError.message}\n`);
    if (agentiumError.hint) process.stderr.write(`hint: ${agentiumError.hint}\n`);
    if (agentiumError.kind === 'failure' && process.env.AGENTIUM_DEBUG && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
  }
  return agentiumError.exitCode;
}
