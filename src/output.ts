import { toAgentiumError, type AgentiumError } from './errors.js';

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
