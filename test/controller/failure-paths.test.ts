/**
 * Every way a session can end badly still comments, revokes the token and terminates
 * (SECURITY-CHECKLIST 10, 14, 23, 33), and a restarted controller never pushes twice.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { scenarioPrompt, scriptPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable, inspectContainer } from './docker/harness.js';
import { markerFile, type PublishMarker } from '../../controller/steps/marker.js';
import { issueComments, mintedTokens, pushes, repoName, revocations, runWorldSession, secretNeedles, sessionWorld, type SessionRun, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();
const worlds: SessionWorld[] = [];

async function world(issueBody: string, agentTimeout?: string): Promise<SessionWorld> {
  const created = await sessionWorld({ issueBody, agentTimeout });
  worlds.push(created);
  return created;
}

afterEach(async () => {
  for (const created of worlds.splice(0)) await created.cleanup();
});

/** The end every session must reach, whatever happened before. */
async function expectCleanEnd(session: SessionWorld, run: SessionRun): Promise<void> {
  expect(run.result.final).toEqual({ comment: 'ok', revoke: 'ok', status: 'ok', terminate: 'ok' });
  expect(revocations(session.github)).toBeGreaterThanOrEqual(1);
  expect([...session.github.state.tokens.values()].every((token) => token.revoked)).toBe(true);
  expect(run.cloud.terminateCalls).toBe(1);
  expect(run.cloud.phases.at(-1)).toBe('finished');
  await expectNoSecretOut(session, run);
}

/** No agent container left, and no token or App-key line in any log line or comment. */
async function expectNoSecretOut(session: SessionWorld, run: SessionRun): Promise<void> {
  expect(await inspectContainer(`${session.spec.id}-agent`)).toBeUndefined();
  expect(mintedTokens(session.github).length).toBeGreaterThan(0);
  const everything = [run.lines.join('\n'), ...issueComments(session)].join('\n');
  for (const needle of secretNeedles(session)) expect(everything.includes(needle)).toBe(false);
  expect(session.github.violations).toEqual([]);
}

describe.skipIf(!docker)('controller failure paths (real Docker, fake GitHub)', () => {
  it('agent exits non-zero: nothing pushed, "agent failed" comment, revoked, terminated', async () => {
    const session = await world(scenarioPrompt('fail', '3'));
    const run = await runWorldSession(session);
    expect(run.result.outcome).toEqual({ kind: 'agent_failed', exitCode: 3 });
    expect(run.result.exitCode).toBe(1);
    expect(pushes(session.github)).toBe(0);
    expect(issueComments(session)[0]).toMatch(/the agent exited with code 3; nothing was pushed/);
    await expectCleanEnd(session, run);
  });

  it('agent outlives its timeout: killed, "timed out" comment, revoked, terminated', async () => {
    const session = await world(scenarioPrompt('sleep', '600'), '2s');
    const started = Date.now();
    const run = await runWorldSession(session);
    expect(run.result.outcome).toEqual({ kind: 'timed_out', reason: 'agent-timeout' });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(pushes(session.github)).toBe(0);
    expect(issueComments(session)[0]).toMatch(/the agent timed out after 2 s/);
    await expectCleanEnd(session, run);
  });

  it('agent writes a token into a file: push refused, comment names file and rule but not the value', async () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const body = [...randomBytes(36)].map((byte) => alphabet[byte % alphabet.length]).join('');
    const fakeToken = `ghp_${body}`;
    // The agent assembles the token itself: a whole token in the issue text would already be
    // redacted out of the prompt file before the agent sees it.
    const session = await world(scriptPrompt(`prefix=ghp_\necho "GITHUB_TOKEN=\${prefix}${body}" > /workspace/deploy.env`));
    const run = await runWorldSession(session);
    expect(run.result.outcome.kind).toBe('refused');
    expect(run.result.exitCode).toBe(6);
    expect(pushes(session.github)).toBe(0);
    expect(session.github.state.pulls).toHaveLength(0);
    const [comment = ''] = issueComments(session);
    expect(comment).toContain('`deploy.env:1`');
    expect(comment).toMatch(/\*\*secret\*\* `deploy\.env:1` \(rule `[^`]+`\)/);
    const everything = [comment, run.lines.join('\n'), JSON.stringify(run.result)].join('\n');
    expect(everything).not.toContain(fakeToken);
    expect(everything).not.toContain(fakeToken.slice(4, 24));
    await expectCleanEnd(session, run);
  });

  it('agent edits .github/workflows/: refused before push', async () => {
    const session = await world(scenarioPrompt('edit-workflow', 'release'));
    const run = await runWorldSession(session);
    expect(run.result.outcome.kind).toBe('refused');
    expect(pushes(session.github)).toBe(0);
    expect(issueComments(session)[0]).toContain('**workflows** `.github/workflows/release.yml`');
    await expectCleanEnd(session, run);
  });

  it('a diff over policy.maxDiffBytes is refused (read only up to the limit)', async () => {
    const session = await world(scriptPrompt('i=0; while [ $i -lt 2000 ]; do echo "line $i of a long file"; i=$((i+1)); done > /workspace/big.txt'));
    session.spec.policy.maxDiffBytes = 1_000;
    const run = await runWorldSession(session);
    expect(run.result.outcome.kind).toBe('refused');
    expect(pushes(session.github)).toBe(0);
    expect(issueComments(session)[0]).toMatch(/\*\*max-diff-bytes\*\*: the diff is 1001 bytes; the limit is 1000/);
    await expectCleanEnd(session, run);
  });

  it('the deadline watchdog fires mid-agent: agent killed, session reports, revokes and terminates', async () => {
    const session = await world(scenarioPrompt('sleep', '600'));
    session.spec.deadline = new Date(Date.now() + 6_000).toISOString();
    const started = Date.now();
    const run = await runWorldSession(session, { watchdogMarginMs: 1_000 });
    expect(run.result.outcome).toEqual({ kind: 'timed_out', reason: 'deadline' });
    expect(run.cloud.phases).toContain('agent');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(pushes(session.github)).toBe(0);
    expect(issueComments(session)[0]).toMatch(/reached its deadline/);
    await expectCleanEnd(session, run);
  });

  it('refreshes the token before it expires mid-session, and revokes every token it held', async () => {
    const session = await world(scriptPrompt('sleep 3\necho refreshed > /workspace/src/widget.txt'));
    // Tokens that are "about to expire" (less than the holder's 10-minute margin) after 2 s.
    session.github.state.tokenLifetimeMs = 10 * 60_000 + 2_000;
    const run = await runWorldSession(session);
    expect(run.result.outcome.kind).toBe('success');
    const minted = [...session.github.state.tokens.values()].filter((token) => token.kind === 'installation');
    expect(minted.length).toBeGreaterThanOrEqual(2);
    expect(minted.every((token) => token.revoked)).toBe(true);
    // The push came with a token minted after the first one.
    const pushAuth = session.github.requests.find((r) => r.kind === 'git' && r.url.endsWith('/git-receive-pack') && r.auth.kind === 'token')?.auth;
    expect(pushAuth && pushAuth.kind === 'token' ? pushAuth.token : '').not.toBe(minted[0]?.token);
    await expectCleanEnd(session, run);
  });

  it('a controller restarted after its deadline stops at once and leaves no token unrevoked', async () => {
    const session = await world(scenarioPrompt('edit-file', 'src/widget.txt', 'too late'));
    session.spec.deadline = new Date(Date.now() - 1_000).toISOString();
    const run = await runWorldSession(session, { watchdogMarginMs: 0 });
    expect(run.result.outcome).toEqual({ kind: 'timed_out', reason: 'deadline' });
    expect(run.cloud.phases).not.toContain('agent');
    expect(pushes(session.github)).toBe(0);
    expect([...session.github.state.tokens.values()].every((token) => token.revoked)).toBe(true);
    expect(run.result.final.terminate).toBe('ok');
    expect(run.cloud.terminateCalls).toBe(1);
    expect(run.cloud.phases.at(-1)).toBe('finished');
    await expectNoSecretOut(session, run);
  });

  it('a controller restarted after the push neither pushes twice nor opens a second PR', async () => {
    const session = await world(scenarioPrompt('edit-file', 'src/widget.txt', 'restarted widget'));
    // The first run dies between push and PR: every attempt to open the PR fails.
    session.github.failNext({ method: 'POST', path: /\/pulls$/, status: 500, times: 4 });
    const first = await runWorldSession(session);
    expect(first.result.outcome.kind).toBe('failed');
    expect(pushes(session.github)).toBe(1);
    expect(session.github.state.pulls).toHaveLength(0);
    await expectCleanEnd(session, first);

    const second = await runWorldSession(session);
    expect(second.result.outcome.kind).toBe('success');
    expect(second.lines.join('\n')).toMatch(/resuming: branch already pushed/);
    expect(pushes(session.github)).toBe(1);
    expect(session.github.state.pulls).toHaveLength(1);

    const third = await runWorldSession(session);
    expect(third.result.outcome).toMatchObject({ kind: 'success', pullRequest: { created: false } });
    expect(pushes(session.github)).toBe(1);
    expect(session.github.state.pulls).toHaveLength(1);
    expect(session.github.requests.filter((r) => r.method === 'POST' && /\/pulls$/.test(r.url) && r.status === 201)).toHaveLength(1);
    // One status comment, updated in place, now telling the final outcome.
    expect(issueComments(session)).toHaveLength(1);
    expect(issueComments(session)[0]).toMatch(/draft pull request #\d+/);
  });

  it('a controller that died between push and marker finishes that push once and never reruns the agent', async () => {
    const session = await world(scenarioPrompt('edit-file', 'src/widget.txt', 'pushed before the crash'));
    const first = await runWorldSession(session);
    expect(first.result.outcome.kind).toBe('success');
    expect(pushes(session.github)).toBe(1);
    // Rebuild what a SIGKILL right after `git push` leaves: the marker written before the push
    // still says `pushing`, and no PR was opened yet.
    const markerPath = join(session.stateDir, markerFile);
    const marker = JSON.parse(await readFile(markerPath, 'utf8')) as PublishMarker;
    const asCrashed = async () => {
      const { pullRequest: _opened, ...pushing } = marker;
      await writeFile(markerPath, JSON.stringify({ ...pushing, phase: 'pushing' }));
      session.github.state.pulls.splice(0);
    };
    const remoteHead = async () => {
      const { stdout } = await promisify(execFile)('git', ['--git-dir', session.github.state.mustRepo(repoName).gitDir, 'rev-parse', '--verify', '--quiet', `refs/heads/agentium/issue-${session.issue}`]).catch(() => ({ stdout: '' }));
      return stdout.trim();
    };
    const agentRan = (run: SessionRun) => run.lines.some((line) => line.includes('agent finished'));

    // The push had landed: finishing it sends nothing, the agent does not run, one PR opens.
    await asCrashed();
    const landed = await runWorldSession(session);
    expect(landed.result.outcome.kind).toBe('success');
    expect(landed.lines.join('\n')).toMatch(/finishing the interrupted push/);
    expect(agentRan(landed)).toBe(false);
    expect(pushes(session.github)).toBe(1);
    expect(session.github.state.pulls).toHaveLength(1);
    await expectCleanEnd(session, landed);

    // The push had not landed: the very commit the gate passed is pushed, once.
    await asCrashed();
    await promisify(execFile)('git', ['--git-dir', session.github.state.mustRepo(repoName).gitDir, 'update-ref', '-d', `refs/heads/agentium/issue-${session.issue}`]);
    const unpushed = await runWorldSession(session);
    expect(unpushed.result.outcome.kind).toBe('success');
    expect(agentRan(unpushed)).toBe(false);
    expect(pushes(session.github)).toBe(2);
    expect(await remoteHead()).toBe(marker.commit);
    expect(session.github.state.pulls).toHaveLength(1);
    expect(JSON.parse(await readFile(markerPath, 'utf8'))).toMatchObject({ phase: 'published', commit: marker.commit });
  });
});
