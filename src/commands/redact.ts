/**
 * `agentium redact [--secret-env NAME ...]`: stdin to stdout through the same engine the
 * controller uses, for cleaning a log before sharing it and for scripts.
 */
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { MIN_SECRET_LENGTH, Redactor } from '../redactor/index.js';

export interface RedactOptions {
  secretEnv: string[];
}

/** A Redactor with the value of each named environment variable registered for masking. */
export function redactorFromEnv(names: readonly string[], env: NodeJS.ProcessEnv = process.env): Redactor {
  const redactor = new Redactor();
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new UsageError(`--secret-env ${name}: environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`, {
        hint: `export ${name} with the value to mask before running agentium redact, or drop --secret-env ${name}`,
      });
    }
    try {
      redactor.registerSecret(value);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw new UsageError(
        `--secret-env ${name}: the value is too short to mask safely (needs at least ${MIN_SECRET_LENGTH} characters)`,
        { hint: 'known token formats are redacted without --secret-env' },
      );
    }
  }
  return redactor;
}

export async function redactCommand(options: RedactOptions): Promise<void> {
  const redactor = redactorFromEnv(options.secretEnv);
  await pipeline(process.stdin, redactor.createStream(), process.stdout);
}
