import type { Command } from 'commander';
import { AgentiumError, UsageError } from '../errors.js';
import { printJson, progress } from '../output.js';
import type { DestroyResult } from '../providers/types.js';
import { loadCloudProviders, settleEachCloud, type CloudCommandOptions } from './cloud-targets.js';

export interface DestroyOptions extends CloudCommandOptions {
  all?: boolean;
  yes?: boolean;
  concurrency: string;
}

export async function destroyCommand(sessions: string[], options: DestroyOptions, command?: Command): Promise<void> {
  if (options.all && sessions.length > 0) throw new UsageError('give session ids or --all, not both');
  if (!options.all && sessions.length === 0) {
    throw new UsageError('name the sessions to destroy, or pass --all', { hint: 'agentium status lists them' });
  }
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError(`--concurrency must be an integer from 1 to 256, got "${options.concurrency}"`);
  }
  if (options.all && !options.yes) await confirmAll();

  const providers = await loadCloudProviders(options, command);
  const target = options.all ? ('all' as const) : sessions;
  const onProgress = options.json ? undefined : progress;
  const outcomes = await settleEachCloud(providers, (provider) => provider.destroy(target, { concurrency, onProgress }));
  const results = outcomes.flatMap(({ provider, value }) => (value ?? []).map((result) => ({ provider, ...result })));
  // A cloud that failed outright (could not list at all) is reported with its error, next to the others' results.
  const providerErrors = outcomes.flatMap(({ provider, error }) => (error ? [{ provider, error: error.toJSON().error }] : []));

  const missing = options.all ? [] : sessions.filter((id) => !results.some((result) => result.sessionId === id));
  const summary = {
    deleted: results.filter((result) => result.outcome === 'deleted').length,
    alreadyGone: results.filter((result) => result.outcome === 'already-gone').length + missing.length,
    failed: results.filter((result) => result.outcome === 'failed').length,
    failedProviders: providerErrors.map(({ provider }) => provider),
  };
  if (options.json) {
    printJson({ summary, results, notFound: missing, providerErrors });
  } else {
    for (const result of results) process.stdout.write(`${describe(result)}\n`);
    for (const id of missing) process.stdout.write(`${id}: no such managed instance (nothing to do)\n`);
    for (const { provider, error } of providerErrors) process.stdout.write(`${provider}: FAILED: ${error.message}${error.hint ? ` (hint: ${String(error.hint)})` : ''}\n`);
    const clouds = providerErrors.length > 0 ? `, clouds failed: ${summary.failedProviders.join(', ')}` : '';
    process.stdout.write(`deleted ${summary.deleted}, already gone ${summary.alreadyGone}, failed ${summary.failed}${clouds}\n`);
  }
  if (summary.failed > 0 || providerErrors.length > 0) {
    // The report is already on stdout; only the exit code remains to say it failed.
    process.exitCode = new AgentiumError('failure', 'some instances could not be deleted').exitCode;
  }
}

function describe(result: DestroyResult & { provider: string }): string {
  const where = `${result.provider} ${result.location} ${result.instance}`;
  if (result.outcome === 'failed') return `${result.sessionId}: FAILED (${where}): ${result.error ?? 'unknown error'}`;
  return `${result.sessionId}: ${result.outcome} (${where})`;
}

async function confirmAll(): Promise<void> {
  if (!process.stdin.isTTY || process.env.CI) {
    throw new UsageError('destroy --all deletes every agentium instance; pass --yes to confirm when not on a terminal');
  }
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question('Delete EVERY agentium instance in every configured zone/region? Type "yes": ');
    if (answer.trim() !== 'yes') throw new UsageError('not confirmed; nothing was deleted');
  } finally {
    prompt.close();
  }
}
