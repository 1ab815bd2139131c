/**
 * One family of error types for the whole CLI and controller. Each kind maps to one documented
 * exit code (docs/exit-codes.md); the single top-level handler in src/cli.ts turns them into
 * human text on stderr or a JSON document on stdout.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  capacity: 5,
  policy: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = 'usage' | 'config' | 'auth' | 'not_found' | 'capacity' | 'policy' | 'failure';

const exitCodeOf: Record<ErrorKind, ExitCode> = {
  usage: ExitCode.usage,
  config: ExitCode.usage,
  auth: ExitCode.auth,
  not_found: ExitCode.notFound,
  capacity: ExitCode.capacity,
  policy: ExitCode.policy,
  failure: ExitCode.failure,
};

export interface ErrorOptions {
  /** A next step for the user, printed after the message. */
  hint?: string;
  /** Machine-readable context (never secret values) for `--json` output. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AgentiumError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentiumError';
    this.kind = kind;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return exitCodeOf[this.kind];
  }

  toJSON(): { error: Record<string, unknown> } {
    return {
      error: {
        kind: this.kind,
        exitCode: this.exitCode,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** The user asked for something malformed: bad flag, bad issue number, conflicting flags. */
export class UsageError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('usage', message, options);
    this.name = 'UsageError';
  }
}

/** The configuration (file, flags or environment) is invalid or incomplete. */
export class ConfigError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('config', message, options);
    this.name = 'ConfigError';
  }
}

/** Credentials are missing, invalid, or lack a permission. */
export class AuthError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('auth', message, options);
    this.name = 'AuthError';
  }
}

/** A repository, issue, installation, session or instance does not exist. */
export class NotFoundError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

/** The cloud has no capacity or the quota is exhausted (after trying every configured zone). */
export class CapacityError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('capacity', message, options);
    this.name = 'CapacityError';
  }
}

/** Agentium refused on purpose: a policy gate, a closed issue, a duplicate session. */
export class PolicyError extends AgentiumError {
  constructor(message: string, options?: ErrorOptions) {
    super('policy', message, options);
    this.name = 'PolicyError';
  }
}

/** Any unexpected error becomes a `failure` with exit code 1, keeping its message. */
export function toAgentiumError(error: unknown): AgentiumError {
  if (error instanceof AgentiumError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AgentiumError('failure', message, { cause: error });
}
