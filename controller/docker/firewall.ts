/**
 * Host firewall rules for one agent network. An `--internal` Docker network drops forwarded traffic
 * to other networks, but the host itself is still reachable on the bridge (its gateway address and
 * every other host address answer through INPUT), so services on the VM would be open to the agent.
 * These rules close that, and restate in our own words what must never be reached from the agent
 * network even if Docker's rules change: link-local (the metadata server) and private ranges.
 *
 * The rules are data (a pure function) so tests can read them; `iptablesFirewall` applies them.
 * Traffic between containers on the agent network itself stays open: that is where the egress
 * proxy will sit (SECURITY-CHECKLIST 21–22, docs/agent-container.md).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AgentiumError } from '../../src/errors.js';

const run = promisify(execFile);

export interface FirewallRule {
  /** `INPUT`: packets addressed to the host. `DOCKER-USER`: forwarded packets, checked before Docker's own rules. */
  chain: 'INPUT' | 'DOCKER-USER';
  /** iptables rule specification, without the chain (`-i br0 -d 10.0.0.0/8 -j REJECT`). */
  spec: string[];
}

/** Link-local (169.254.169.254 lives here) and every private / shared address range. */
export const blockedRanges = ['169.254.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;

/** Every rule carries this comment so leftovers can be found by bridge name after a crash. */
export function firewallComment(bridge: string): string {
  return `agentium:${bridge}`;
}

export function agentFirewallRules(bridge: string): FirewallRule[] {
  const tag = ['-m', 'comment', '--comment', firewallComment(bridge)];
  const reject = (...match: string[]): string[] => [...match, ...tag, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'];
  return [
    // The host (bridge gateway address and any other host address): no host service is for the agent.
    { chain: 'INPUT', spec: reject('-i', bridge) },
    // Agent <-> proxy on the same network: hand over to Docker's own rules.
    { chain: 'DOCKER-USER', spec: ['-i', bridge, '-o', bridge, ...tag, '-j', 'RETURN'] },
    ...blockedRanges.map((range): FirewallRule => ({ chain: 'DOCKER-USER', spec: reject('-i', bridge, '-d', range) })),
    // Anything else leaving or entering the agent network (defence in depth beside --internal).
    { chain: 'DOCKER-USER', spec: reject('-i', bridge) },
    { chain: 'DOCKER-USER', spec: reject('-o', bridge) },
  ];
}

/** Applies and removes rules; injected so the network code can run against a recording fake. */
export interface Firewall {
  apply(rules: FirewallRule[]): Promise<void>;
  /** Idempotent: rules already gone are fine. */
  remove(rules: FirewallRule[]): Promise<void>;
}

function firewallError(what: string, error: unknown): AgentiumError {
  const stderr = (error as { stderr?: string }).stderr ?? '';
  return new AgentiumError('failure', `${what} failed: ${stderr.trim() || String(error)}`, {
    hint: 'the controller needs root (or CAP_NET_ADMIN) and the iptables backend dockerd uses',
    cause: error,
  });
}

async function iptables(args: string[]): Promise<void> {
  try {
    // -w: wait for the xtables lock instead of failing while dockerd edits its own rules.
    await run('iptables', ['-w', ...args]);
  } catch (error) {
    throw firewallError(`iptables ${args.join(' ')}`, error);
  }
}

/**
 * One `iptables-restore --noflush` transaction: all the lines apply or none does, and it costs one
 * process instead of one per rule (rule removal was 2/3 of the network's teardown time).
 */
function restore(lines: string[]): Promise<void> {
  const input = ['*filter', ...lines, 'COMMIT', ''].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile('iptables-restore', ['-w', '--noflush'], (error, _stdout, stderr) =>
      error ? reject(Object.assign(error, { stderr })) : resolve(),
    );
    child.stdin?.end(input);
  });
}

function restoreLine(action: '-I' | '-D', rule: FirewallRule, position?: number): string {
  // restore input is split on whitespace: our rule words never contain any.
  if (rule.spec.some((word) => /[\s"']/.test(word))) throw new AgentiumError('failure', `unexpected firewall rule ${rule.spec.join(' ')}`);
  return [action, rule.chain, ...(position === undefined ? [] : [String(position)]), ...rule.spec].join(' ');
}

/** `iptables -C`: is this exact rule in its chain? */
export async function firewallRulePresent(rule: FirewallRule): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-C', rule.chain, ...rule.spec]);
    return true;
  } catch {
    return false;
  }
}

export function iptablesFirewall(): Firewall {
  return {
    async apply(rules) {
      // Insert at the top of each chain, keeping the listed order (DOCKER-USER ends in a RETURN).
      const position = new Map<string, number>();
      const lines = rules.map((rule) => {
        const next = (position.get(rule.chain) ?? 0) + 1;
        position.set(rule.chain, next);
        return restoreLine('-I', rule, next);
      });
      await restore(lines).catch((error: unknown) => {
        throw firewallError('iptables-restore (agent network rules)', error);
      });
    },
    async remove(rules) {
      // Fast path: one transaction. It fails as a whole if any rule is already gone; then, and for
      // duplicates a crashed run may have left, go rule by rule.
      await restore(rules.map((rule) => restoreLine('-D', rule))).catch(() => undefined);
      // Our rules carry a comment naming the network: if no line of these chains has it, all are
      // gone (also the cheap answer when there was nothing to remove, e.g. a leftover check).
      const comments = rules.map((rule) => rule.spec[rule.spec.indexOf('--comment') + 1] ?? '');
      const chains = [...new Set(rules.map((rule) => rule.chain))];
      const listed = (await Promise.all(chains.map(listChain))).flat().join('\n');
      if (!comments.includes('') && !comments.some((comment) => listed.includes(comment))) return;
      for (const rule of rules) {
        while (await firewallRulePresent(rule)) {
          // Someone else (a leftover sweep) may delete it between the check and ours: gone is done.
          await iptables(['-D', rule.chain, ...rule.spec]).catch(async (error: unknown) => {
            if (await firewallRulePresent(rule)) throw error;
          });
        }
      }
    },
  };
}

/** Current rules of a chain (`iptables -S`), for tests and leftover sweeps. */
export async function listChain(chain: FirewallRule['chain']): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-S', chain]);
  return stdout.split('\n').filter((line) => line !== '');
}
