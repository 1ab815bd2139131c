/**
 * Git as the controller runs it on its OWN repository (`<state>/controller.git`), never inside the
 * agent's workspace: the workspace's `.git` is written by the untrusted agent, which could plant
 * hooks, `core.fsmonitor`, filter drivers or `url.*.insteadOf` there. Every command here names the
 * git directory explicitly (GIT_DIR), reads no user/system config, and gets the dangerous keys
 * pinned through GIT_CONFIG_COUNT. No command here talks to a remote: the token never comes near
 * this runner (remote work goes through src/github/git.ts and its credential helper).
 */
import { spawn } from 'node:child_process';
import { AgentiumError } from '../../src/errors.js';

export interface LocalGit {
  /** Run git with GIT_DIR = the controller's repository; `workTree` only where a command needs one. */
  (args: string[], options?: LocalGitOptions): Promise<string>;
  readonly gitDir: string;
}

export interface LocalGitOptions {
  workTree?: string;
  indexFile?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /**
   * Keep at most this many bytes of stdout, then stop git and return what was read: an agent can
   * leave a diff far larger than memory, and more than the policy limit is refused anyway.
   */
  maxOutputBytes?: number;
}

const pinnedConfig: Array<[string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.untrackedCache', 'false'],
  ['core.symlinks', 'true'],
  ['core.autocrlf', 'false'],
  ['core.quotePath', 'false'],
  ['diff.external', ''],
  ['credential.helper', ''],
  ['protocol.file.allow', 'always'],
  // The agent's workspace is owned by the agent's uid; we read it on purpose (fetch only), and
  // upload-pack runs no hook or command from the repository's own config.
  ['safe.directory', '*'],
];

export function localGit(gitDir: string, baseEnv: NodeJS.ProcessEnv = process.env): LocalGit {
  const run = (args: string[], options: LocalGitOptions = {}) => {
    const env: NodeJS.ProcessEnv = {
      PATH: baseEnv.PATH,
      HOME: baseEnv.HOME ?? '/nonexistent',
      LANG: 'C',
      GIT_DIR: gitDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: String(pinnedConfig.length),
      ...Object.fromEntries(pinnedConfig.flatMap(([key, value], index) => [[`GIT_CONFIG_KEY_${index}`, key], [`GIT_CONFIG_VALUE_${index}`, value]])),
      ...(options.workTree ? { GIT_WORK_TREE: options.workTree } : {}),
      ...(options.indexFile ? { GIT_INDEX_FILE: options.indexFile } : {}),
      ...options.env,
    };
    return new Promise<string>((resolve, reject) => {
      const child = spawn('git', args, { env, cwd: options.workTree ?? gitDir, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const limit = options.maxOutputBytes ?? Number.POSITIVE_INFINITY;
        out.push(kept + chunk.length > limit ? chunk.subarray(0, limit - kept) : chunk);
        kept += chunk.length;
        if (kept > limit) {
          truncated = true;
          child.kill('SIGKILL');
        }
      });
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error) => reject(new AgentiumError('failure', `could not run git: ${error.message}`, { cause: error })));
      child.on('close', (code) => {
        if (code === 0 || truncated) return resolve(Buffer.concat(out).toString('utf8'));
        const said = Buffer.concat(err).toString('utf8').trim().slice(-1000);
        reject(new AgentiumError('failure', `git ${args[0] ?? ''} failed (exit ${code})${said ? `: ${said}` : ''}`, { details: { exitCode: code } }));
      });
      // git may exit before reading all of it; its exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
  };
  return Object.assign(run, { gitDir });
}
