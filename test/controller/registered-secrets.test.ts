/**
 * The controller registers every secret it knows with the redactor (SECURITY-CHECKLIST 4): the
 * minted installation token, the App key and the LLM key (`agent.llmKeySecret`, read in step
 * secrets and kept in the controller: the agent never gets it). The values used here match no
 * format rule (checked first), so only masking by value can hide them: if the controller did not
 * register one, it would show up in the prompt file, the logs or on GitHub.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Redactor, REGISTERED_RULE } from '../../src/redactor/index.js';
import { scriptPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable } from './docker/harness.js';
import { appKeyLines, gitShow, issueComments, mintedTokens, pushes, runWorldSession, sessionWorld, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();
const masked = `[REDACTED:${REGISTERED_RULE}]`;
const worlds: SessionWorld[] = [];

afterEach(async () => {
  for (const created of worlds.splice(0)) await created.cleanup();
});

/** 40 random lowercase letters outside a–f: no hex, no prefix, nothing a format rule knows. */
function plainSecret(): string {
  const letters = 'ghijklmnopqrstuvwxyz';
  return [...randomBytes(40)].map((byte) => letters[byte % letters.length]).join('');
}

/** Shell lines that set `$name` to `value` without the value appearing whole in the script. */
function assemble(name: string, value: string): string {
  const half = Math.floor(value.length / 2);
  return `${name}_a='${value.slice(0, half)}'; ${name}_b='${value.slice(half)}'; ${name}="$${name}_a$${name}_b"`;
}

interface Secrets {
  token: string;
  llmKey: string;
  keyLine: string;
}

/**
 * A world whose issue title and body carry the three values whole, whose fake mints `token`, and
 * whose agent script can rebuild each value from halves ($token, $llm, $key) and print it.
 */
async function secretWorld(script: (secrets: Secrets) => string): Promise<{ world: SessionWorld; secrets: Secrets; body: string; title: string }> {
  const token = plainSecret();
  const llmKey = plainSecret();
  const title = `Widget ${token} ${llmKey}`;
  let secrets: Secrets | undefined;
  let body = '';
  const world = await sessionWorld({
    issueTitle: title,
    llmKey,
    issueBody: (app) => {
      const keyLine = app.privateKey.split('\n')[2] ?? '';
      secrets = { token, llmKey, keyLine };
      body = [
        `The token is ${token}, the LLM key is ${llmKey}, and a line of the App key:`,
        keyLine,
        '',
        scriptPrompt([assemble('token', token), assemble('llm', llmKey), assemble('key', keyLine), script(secrets)].join('\n')),
      ].join('\n');
      return body;
    },
  });
  worlds.push(world);
  world.github.state.tokenValue = () => token;
  if (!secrets) throw new Error('the issue body was not built');
  expect(appKeyLines(world)).toContain(secrets.keyLine);
  return { world, secrets, body, title };
}

describe.skipIf(!docker)('the controller registers every secret it knows (checklist 4, real Docker, fake GitHub)', () => {
  it('masks the minted token, the App key and the LLM key by value in the prompt file, every log line, the commit, the PR and the comment', async () => {
    const { world, secrets, body, title } = await secretWorld(() =>
      [
        // The LLM key stays in the controller: not in the agent's environment nor in its mounts.
        'env | grep -q "$llm" && echo "LEAK: llm key in env"',
        'grep -rqs "$llm" /agentium /workspace && echo "LEAK: llm key in a file"',
        'cat /agentium/prompt.md',
        'echo "agent prints token=$token llm=$llm key=$key"',
        'echo "agent stderr llm=$llm" >&2',
        'echo "new widget" > /workspace/src/widget.txt',
      ].join('\n'),
    );
    const values = Object.values(secrets);
    // Without registration nothing here would be masked: no format rule matches these values.
    expect(new Redactor().redact(`${title}\n${body}`)).toBe(`${title}\n${body}`);
    for (const value of values) expect(new Redactor().scan(value)).toEqual([]);

    const run = await runWorldSession(world);
    expect(run.result.outcome.kind).toBe('success');
    expect(mintedTokens(world.github)).toEqual([secrets.token]);
    expect(pushes(world.github)).toBe(1);

    const prompt = await readFile(join(world.stateDir, 'prompt', 'prompt.md'), 'utf8');
    expect(prompt).toContain(`The token is ${masked}, the LLM key is ${masked}, and a line of the App key:\n${masked}\n`);
    expect(prompt).toContain(`# Widget ${masked} ${masked}`);
    const log = run.lines.join('\n');
    expect(log).toContain(`[agent stdout] agent prints token=${masked} llm=${masked} key=${masked}`);
    expect(log).toContain(`[agent stderr] agent stderr llm=${masked}`);
    expect(log).toContain(`[agent stdout] The token is ${masked}, the LLM key is ${masked}`);
    expect(run.lines.filter((line) => line.startsWith('[agent stdout] LEAK'))).toEqual([]);
    const [pull] = world.github.state.pulls;
    expect(pull?.title).toBe(`Widget ${masked} ${masked} (#${world.issue})`);
    const commit = await gitShow(world, world.spec.branch);
    expect(commit).toContain(`Widget ${masked} ${masked} (#${world.issue})`);

    const haystacks: Record<string, string> = {
      'prompt file': prompt,
      'controller log': log,
      'status file': await readFile(join(world.stateDir, 'status.json'), 'utf8'),
      comments: issueComments(world).join('\n'),
      'PR title and body': `${pull?.title ?? ''}\n${pull?.body ?? ''}`,
      'pushed commit': commit,
      summary: run.result.summary,
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const value of values) expect(text.includes(value), `a secret appears in the ${where}`).toBe(false);
    }
    expect(world.github.violations).toEqual([]);
  });

  it('a comment naming what the agent wrote shows [REDACTED:registered-secret] for the LLM key, and the policy gate finds the registered values', async () => {
    const marker = randomUUID();
    const { world, secrets } = await secretWorld(() =>
      [`mkdir -p /workspace/notes`, `printf 'token: %s\\nllm: %s\\n' "$token" "$llm" > "/workspace/notes/$llm.txt"`, `echo ${marker}`].join('\n'),
    );
    const run = await runWorldSession(world);
    expect(run.lines.join('\n')).toContain(marker);
    expect(run.result.outcome.kind).toBe('refused');
    expect(pushes(world.github)).toBe(0);
    const [comment = ''] = issueComments(world);
    expect(comment).toContain(`**secret** \`notes/${masked}.txt:1\` (rule \`${REGISTERED_RULE}\`)`);
    expect(comment).toContain(`**secret** \`notes/${masked}.txt:2\` (rule \`${REGISTERED_RULE}\`)`);
    // What leaves the controller: `agentium run --local` prints the summary, never the outcome object.
    const everything = [comment, run.lines.join('\n'), run.result.summary, await readFile(join(world.stateDir, 'status.json'), 'utf8')].join('\n');
    for (const [name, value] of Object.entries(secrets)) expect(everything.includes(value), `the ${name} appears`).toBe(false);
    expect(everything).toContain(masked);
  });
});
