import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactorFromEnv } from '../../src/commands/redact.js';
import { UsageError } from '../../src/errors.js';
import { random } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = `${root}dist/cli/bin.js`;

function agentium(args: string[], input: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { input, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
}

describe('agentium redact (built CLI)', () => {
  beforeAll(() => {
    expect(existsSync(cli), 'run `npm run build` first (npm test does)').toBe(true);
  });

  it('streams stdin to stdout with known formats and --secret-env values masked', () => {
    const value = random(33); // a multiple of 3 bytes: its base64 has no partial last group
    const token = `ghp_${random(36)}`;
    const input = `a ${token} b\nc ${value} d\ne ${Buffer.from(value).toString('base64')} f\n`;
    const result = agentium(['redact', '--secret-env', 'MY_VALUE'], input, { MY_VALUE: value });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      'a [REDACTED:github-token] b\nc [REDACTED:registered-secret] d\ne [REDACTED:registered-secret] f\n',
    );
  });

  it('exits 2 with a clear message when NAME is unset or too short', () => {
    const unset = agentium(['redact', '--secret-env', 'NOT_SET_ANYWHERE'], 'x');
    expect(unset.status).toBe(2);
    expect(unset.stderr).toContain('NOT_SET_ANYWHERE is not set');
    const empty = agentium(['redact', '--secret-env', 'EMPTY'], 'x', { EMPTY: '' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('environment variable EMPTY is empty');
    const short = agentium(['redact', '--secret-env', 'SHORT'], 'x', { SHORT: 'abc' });
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('too short');
    expect(short.stderr).not.toContain('abc');
  });
});

describe('agentium redact with a reader that stops early', () => {
  /** Runs `<input> | agentium redact | head -2`; reports redact's own exit status and stderr. */
  function intoHead(input: string) {
    const dir = mkdtempSync(join(tmpdir(), 'agentium-redact-'));
    const stderrFile = join(dir, 'stderr');
    const script = `( ${input} ) | "${process.execPath}" "${cli}" redact 2>"${stderrFile}" | head -2 >/dev/null; echo "\${PIPESTATUS[1]}"`;
    const result = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 20_000 });
    return { status: result.stdout.trim(), stderr: readFileSync(stderrFile, 'utf8') };
  }

  it('ends quietly with exit 0 when stdout closes (agentium redact | head)', () => {
    expect(intoHead('yes x | head -200000')).toEqual({ status: '0', stderr: '' });
  });

  it('stops reading an endless stdin once stdout is gone', () => {
    expect(intoHead('yes x')).toEqual({ status: '0', stderr: '' });
  });
});

describe('redactorFromEnv (in-process)', () => {
  it('registers each named variable and refuses unset or short ones', () => {
    const value = random(20);
    expect(redactorFromEnv(['A'], { A: value }).redact(`x ${value}`)).toBe('x [REDACTED:registered-secret]');
    expect(() => redactorFromEnv(['B'], {})).toThrow(UsageError);
    expect(() => redactorFromEnv(['C'], { C: 'short' })).toThrow(/too short/);
  });
});
