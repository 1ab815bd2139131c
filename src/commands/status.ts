import type { Command } from 'commander';
import { NotFoundError } from '../errors.js';
import { printJson } from '../output.js';
import type { SessionStatus } from '../providers/types.js';
import { loadCloudProviders, type CloudCommandOptions } from './cloud-targets.js';

export interface StatusOptions extends CloudCommandOptions {
  watch?: boolean;
  interval: string;
}

export async function statusCommand(session: string | undefined, options: StatusOptions, command?: Command): Promise<void> {
  const providers = await loadCloudProviders(options, command);
  const collect = async (): Promise<Array<SessionStatus & { provider: string }>> => {
    const lists = await Promise.all(
      providers.map(async (provider) => (await provider.list()).map((status) => ({ provider: provider.name, ...status }))),
    );
    const all = lists.flat().sort((a, b) => a.sessionId.localeCompare(b.sessionId));
    const chosen = session ? all.filter((status) => status.sessionId === session) : all;
    if (session && chosen.length === 0) throw new NotFoundError(`no session ${session} is running`, { hint: 'agentium status lists the live ones' });
    return chosen;
  };

  if (!options.watch) {
    const sessions = await collect();
    if (options.json) printJson({ sessions });
    else process.stdout.write(renderTable(sessions));
    return;
  }
  const intervalMs = Math.max(1, Number(options.interval) || 5) * 1000;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  while (!stop.signal.aborted) {
    const sessions = await collect();
    if (options.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), sessions })}\n`);
    else process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${renderTable(sessions)}`);
    if (session && sessions.every((status) => ['terminated', 'deleted', 'stopped'].includes(status.state))) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
  }
}

export function renderTable(sessions: ReadonlyArray<SessionStatus & { provider: string }>): string {
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
