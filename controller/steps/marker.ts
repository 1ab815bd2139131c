/**
 * The publish marker in the state dir: what this session already pushed and opened. A controller
 * restarted after a crash (same session, same state dir) reads it and neither pushes again nor
 * opens a second PR; the GitHub side is checked too (openOrUpdatePullRequest finds the open PR).
 * Written atomically (temp file + rename) so a crash mid-write leaves the old marker.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PublishMarker {
  sessionId: string;
  issue: number;
  /**
   * `pushing`: written before the push, so a crash during or right after it is never followed by
   * a second agent run and push; `pushed`: the branch is on GitHub; `published`: the PR is open too.
   */
  phase: 'pushing' | 'pushed' | 'published';
  commit: string;
  files: number;
  /** The PR's base branch and the issue title, so a resumed run needs nothing else. */
  baseBranch: string;
  issueTitle: string;
  /** Where the branch goes (no credentials in it), so an interrupted push can be finished. */
  remoteUrl: string;
  pullRequest?: { number: number; htmlUrl: string };
}

export const markerFile = 'publish-marker.json';

export async function readMarker(stateDir: string, sessionId: string): Promise<PublishMarker | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, markerFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const marker = JSON.parse(text) as PublishMarker;
  // A marker from another session in a reused state dir says nothing about this one.
  return marker.sessionId === sessionId ? marker : undefined;
}

export async function writeMarker(stateDir: string, marker: PublishMarker): Promise<void> {
  const path = join(stateDir, markerFile);
  await writeFile(`${path}.tmp`, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
