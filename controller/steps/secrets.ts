/**
 * Step 2: read the session's secrets with the VM identity (or, locally, from files and the
 * environment; controller/cloud/local.ts). Each value is registered with the redactor the moment it
 * is read, before anything can print it.
 */
import type { ControllerCloud } from '../cloud/types.js';
import type { SessionSpec } from '../../src/session/spec.js';
import { ConfigError } from '../../src/errors.js';
import type { SessionRedactor } from '../lifecycle.js';

/** Reference of a plain GitHub token (local mode without an App): `GITHUB_TOKEN` for the local cloud. */
export const githubTokenReference = 'GITHUB_TOKEN';

export interface SessionSecrets {
  /** PEM of the GitHub App key (App mode). */
  appPrivateKey?: string;
  /** A user's own token (local mode without an App). */
  githubToken?: string;
  /** For the egress proxy; never given to the agent. */
  llmKey?: string;
}

export async function readSessionSecrets(
  spec: SessionSpec,
  cloud: ControllerCloud,
  redactor: Pick<SessionRedactor, 'registerSecret'>,
): Promise<SessionSecrets> {
  const read = async (reference: string, what: string) => {
    // Secret stores and metadata servers hand values back with a trailing newline now and then.
    const value = (await cloud.readSecret(reference)).replace(/\s+$/, '');
    if (value === '') throw new ConfigError(`the ${what} secret ${reference} is empty`);
    redactor.registerSecret(value);
    return value;
  };
  const secrets: SessionSecrets = {};
  if (spec.github.appId !== undefined) {
    if (!spec.github.privateKeySecret) throw new ConfigError('github.privateKeySecret is not set: the App private key cannot be read');
    secrets.appPrivateKey = `${await read(spec.github.privateKeySecret, 'GitHub App private key')}\n`;
  } else if (cloud.name === 'local') {
    secrets.githubToken = await read(githubTokenReference, 'GitHub token');
  } else {
    throw new ConfigError('a session on a VM needs a GitHub App (github.appId and github.privateKeySecret)');
  }
  if (spec.agent.llmKeySecret) secrets.llmKey = await read(spec.agent.llmKeySecret, 'LLM API key');
  return secrets;
}
