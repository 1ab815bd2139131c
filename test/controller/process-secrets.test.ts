/**
 * SECURITY-CHECKLIST 11, "argv of any process": while a whole session runs (the agent held until
 * the sampler has seen it), every process on this machine is sampled from /proc — its argv
 * (`cmdline`) and its environment (`environ`). The token, the App key and the LLM key are in no
 * argv. The token is in the environment only of the git processes the controller spawns to talk to
 * GitHub (and their helpers: git-remote-http, the credential-helper shell), never in the
 * controller's own, the agent's or anyone else's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable } from './docker/harness.js';
import { appKeyLines, mintedTokens, runWorldSession, sessionWorld, type SessionRun, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();

interface ProcessSeen {
  pid: number;
  /** comm of the process, then of each ancestor up to pid 1 (as far as they were still there). */
  chain: string[];
  pids: number[];
  /** False when an ancestor exited during the walk (a git that just finished): the chain is cut short. */
  complete: boolean;
}

interface Samples {
  sweeps: number;
  /** Every distinct argv seen (NUL separators as spaces). */
  argv: Set<string>;
  /** Processes whose argv held a secret, by needle. */
  inArgv: Map<string, ProcessSeen[]>;
  /** Processes whose environment held a secret, by needle. */
  inEnviron: Map<string, ProcessSeen[]>;
}

const readProc = (pid: number | string, file: string) => readFile(`/proc/${pid}/${file}`, 'latin1').catch(() => undefined);

async function stat(pid: number): Promise<{ comm: string; ppid: number } | undefined> {
  const text = await readProc(pid, 'stat');
  // `pid (comm) state ppid …`; comm may itself hold spaces and parentheses.
  const match = text ? /^\d+ \((.*)\) \S+ (\d+)/s.exec(text) : null;
  return match ? { comm: match[1] ?? '', ppid: Number(match[2]) } : undefined;
}

/** The process (as read before its environment) and its ancestors, as far as they are still there. */
async function ancestry(pid: number, self: { comm: string; ppid: number }): Promise<ProcessSeen> {
  const seen: ProcessSeen = { pid, chain: [self.comm], pids: [pid], complete: true };
  for (let current = self.ppid; current > 0 && seen.pids.length < 64; ) {
    const info = await stat(current);
    if (!info) {
      seen.complete = false;
      break;
    }
    seen.chain.push(info.comm);
    seen.pids.push(current);
    current = info.ppid;
  }
  return seen;
}

/** Sample /proc until `stop` is aborted; needles are matched in place (nothing secret is kept). */
function sampleProcesses(needles: string[], stop: AbortSignal): { samples: Samples; done: Promise<void> } {
  const samples: Samples = { sweeps: 0, argv: new Set(), inArgv: new Map(), inEnviron: new Map() };
  const record = (map: Map<string, ProcessSeen[]>, needle: string, seen: ProcessSeen) => map.set(needle, [...(map.get(needle) ?? []), seen]);
  const done = (async () => {
    while (!stop.aborted) {
      const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
      await Promise.all(
        pids.map(async (pid) => {
          // Who the process is first: a short-lived one may be gone by the time its environment was read.
          const self = await stat(pid);
          if (!self) return;
          const [argv, environ] = await Promise.all([readProc(pid, 'cmdline'), readProc(pid, 'environ')]);
          if (argv) samples.argv.add(argv.split('\0').join(' '));
          for (const needle of needles) {
            if (argv?.includes(needle)) record(samples.inArgv, needle, await ancestry(pid, self));
            if (environ?.includes(needle)) record(samples.inEnviron, needle, await ancestry(pid, self));
          }
        }),
      );
      samples.sweeps += 1;
    }
  })();
  return { samples, done };
}

describe.skipIf(!docker)('no secret in the argv or environment of any process during a session (checklist 11, real Docker, fake GitHub)', () => {
  let world: SessionWorld;
  let run: SessionRun;
  let samples: Samples;
  let token: string;
  let needles: string[];
  const marker = randomUUID();
  let sweepsWhileAgentRan = 0;

  beforeAll(async () => {
    // The agent's shell runs `sh -c <script>`: the marker in its argv shows the sampler saw it.
    world = await sessionWorld({
      issueBody: scriptPrompt(`# ${marker}\nwhile [ ! -e /workspace/.sampled ]; do sleep 0.1; done; rm /workspace/.sampled\necho "new widget" > /workspace/src/widget.txt`),
      llmKey: randomBytes(24).toString('base64url'),
    });
    // A token known before it is minted, so the sampler can look for it from the first sweep.
    token = `ghs_${randomBytes(27).toString('base64url').slice(0, 36)}`;
    world.github.state.tokenValue = () => token;
    needles = [token, ...appKeyLines(world), world.llmKey ?? ''];
    const stop = new AbortController();
    const sampler = sampleProcesses(needles, stop.signal);
    samples = sampler.samples;
    const running = runWorldSession(world);
    const agentSeen = () => [...samples.argv].some((argv) => argv.includes(marker));
    for (let i = 0; i < 600 && !agentSeen(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const sweeps = samples.sweeps;
    while (samples.sweeps < sweeps + 5) await new Promise((resolve) => setTimeout(resolve, 20));
    sweepsWhileAgentRan = samples.sweeps - sweeps;
    await writeFile(join(world.stateDir, 'workspace', '.sampled'), '');
    run = await running;
    stop.abort();
    await sampler.done;
  }, 120_000);

  afterAll(async () => world?.cleanup());

  it('samples every process while the agent runs, and the session succeeds', () => {
    expect(run.result.outcome.kind).toBe('success');
    expect(mintedTokens(world.github)).toEqual([token]);
    expect([...samples.argv].some((argv) => argv.includes(marker)), 'the agent container process was sampled').toBe(true);
    expect(sweepsWhileAgentRan).toBeGreaterThanOrEqual(5);
  });

  it('finds the token, the App key and the LLM key in the argv of no process', () => {
    expect(needles.length).toBeGreaterThan(3);
    expect(Object.fromEntries(samples.inArgv)).toEqual({});
  });

  it('finds the token only in the environment of git processes the controller spawned, and the keys in none', () => {
    const holders = samples.inEnviron.get(token) ?? [];
    // The sampler's own control: it does catch the short-lived git processes that hold the token.
    expect(holders.length, 'a git process holding the token was sampled').toBeGreaterThan(0);
    for (const seen of holders) {
      const what = `pid ${seen.pid} (${seen.chain.join(' < ')}) holds the token in its environment`;
      // git, git-remote-http, or the credential-helper shell git runs…
      expect(seen.chain[0], what).toMatch(/^(git|sh$)/);
      const git = seen.chain.findIndex((comm) => comm.startsWith('git'));
      expect(git, what).toBeGreaterThanOrEqual(0);
      // …under a git this process (the controller) started, not the agent or anything else. When
      // the parent git exited while the chain was read, the chain ends early and cannot say more.
      if (seen.complete) expect(seen.pids.slice(git), what).toContain(process.pid);
    }
    expect(holders.filter((seen) => seen.complete && seen.pids.includes(process.pid)).length).toBeGreaterThan(0);
    expect(holders.some((seen) => seen.pid === process.pid), 'the controller holds the token in its own environment').toBe(false);
    const others = Object.fromEntries([...samples.inEnviron].filter(([needle]) => needle !== token));
    expect(others).toEqual({});
  });
});
