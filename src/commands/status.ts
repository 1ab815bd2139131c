import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { AgentiumError, NotFoundError } from '../errors.js';
import { printJson, progress } from '../output.js';
import type { CloudProvider, SessionStatus, UnreachableLocation } from '../providers/types.js';
import { loadCloudProviders, settleEachCloud, type CloudCommandOptions } from './cloud-targets.js';

export interface StatusOptions extends CloudCommandOptions {
  watch?: boolean;
  interval: string;
}

type ProviderSession = SessionStatus & { provider: string };
/** A zone/region (or, with `location: "*"`, a whole cloud) whose sessions are missing from the list. */
export type ProviderUnreachable = UnreachableLocation & { provider: string };

interface StatusReport {
  sessions: ProviderSession[];
  unreachable: ProviderUnreachable[];
}

/** Every cloud's sessions; a cloud or zone that did not answer is reported, never silently dropped. */
async function collectStatus(providers: CloudProvider[], session: string | undefined): Promise<StatusReport> {
  const settled = await settleEachCloud(providers, (provider) => provider.list());
  const sessions: ProviderSession[] = [];
  const unreachable: ProviderUnreachable[] = [];
  for (const { provider, value, error } of settled) {
    if (error) unreachable.push({ provider, location: '*', reason: error.message });
    for (const status of value?.sessions ?? []) sessions.push({ provider, ...status });
    for (const entry of value?.unreachable ?? []) unreachable.push({ provider, ...entry });
  }
  sessions.sort((a, b) => a.sessionId.localeCompare(b.sessionId));
  const chosen = session ? sessions.filter((status) => status.sessionId === session) : sessions;
  if (session && chosen.length === 0) {
    // Not found is only a claim when every place answered; otherwise it may be where we could not look.
    if (unreachable.length > 0) {
      throw new AgentiumError('failure', `session ${session} was not found, but ${describeUnreachable(unreachable)} could not be listed`, {
        hint: 'try again; agentium status lists what could be reached',
        details: { unreachable },
      });
    }
    throw new NotFoundError(`no session ${session} is running`, { hint: 'agentium status lists the live ones' });
  }
  return { sessions: chosen, unreachable };
}

function describeUnreachable(unreachable: readonly ProviderUnreachable[]): string {
  return unreachable.map((entry) => (entry.location === '*' ? entry.provider : `${entry.provider} ${entry.location}`)).join(', ');
}

/** The human warning on stderr: the table above it is incomplete. */
function warnUnreachable(unreachable: readonly ProviderUnreachable[]): void {
  for (const entry of unreachable) {
    const where = entry.location === '*' ? `${entry.provider} (every zone/region)` : `${entry.provider} ${entry.location}`;
    progress(`warning: ${where} could not be listed, its sessions are missing from this list: ${entry.reason}`);
  }
}

export async function statusCommand(session: string | undefined, options: StatusOptions, command?: Command): Promise<void> {
  const providers = await loadCloudProviders(options, command);

  if (!options.watch) {
    const report = await collectStatus(providers, session);
    if (options.json) printJson(report);
    else {
      process.stdout.write(renderTable(report.sessions));
      warnUnreachable(report.unreachable);
    }
    return;
  }
  const intervalMs = Math.max(1, Number(options.interval) || 5) * 1000;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchStatus(providers, session, options, intervalMs, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function watchStatus(providers: CloudProvider[], session: string | undefined, options: StatusOptions, intervalMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const report = await collectStatus(providers, session);
    if (options.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...report })}\n`);
    else {
      process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${renderTable(report.sessions)}`);
      warnUnreachable(report.unreachable);
    }
    if (session && report.sessions.every((status) => ['terminated', 'deleted', 'stopped'].includes(status.state))) return;
    // A referenced timer: it is what keeps the process alive between refreshes. Ctrl-C ends the pause.
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

export function renderTable(sessions: readonly ProviderSession[]): string {
  if (sessions.length === 0) return 'no agentium sessions\n';
  const header = ['SESSION', 'PROVIDER', 'REPO#ISSUE', 'LOCATION', 'STATE', 'PHASE', 'DEADLINE'];
  const rows = sessions.map((status) => [
    status.sessionId,
    status.provider,
    `${status.repo ?? '?'}#${status.issue ?? '?'}`,
    status.location,
    status.state,
    status.phase ?? '-',
    status.deadline ?? '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return `${[header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}
