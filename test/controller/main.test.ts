/** The `agentium-controller` entry point: spec file in, documented exit code out. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controllerMain } from '../../controller/main.js';
import { scenarioPrompt } from '../fakes/agent-image/build.js';
import { dockerAvailable } from './docker/harness.js';
import { revocations, sessionWorld, type SessionWorld } from './session-harness.js';

const docker = await dockerAvailable();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('agentium-controller', () => {
  it('exits 2 when the session spec cannot be read, before doing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentium-main-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'session.json'), '{"version": 99}');
    expect(await controllerMain({ AGENTIUM_SESSION_FILE: join(dir, 'session.json'), AGENTIUM_STATE_DIR: dir })).toBe(2);
    expect(await controllerMain({ AGENTIUM_SESSION_FILE: join(dir, 'missing.json'), AGENTIUM_STATE_DIR: dir })).toBe(2);
  });

  it.skipIf(!docker)('runs a whole session from the spec file and exits 0', async () => {
    const world: SessionWorld = await sessionWorld({ issueBody: scenarioPrompt('ready') });
    cleanups.push(() => world.cleanup());
    // The local cloud resolves the key reference from an environment variable of that name.
    world.spec.github.privateKeySecret = 'TEST_APP_KEY_PEM';
    const specFile = join(world.stateDir, 'session.json');
    await writeFile(specFile, JSON.stringify(world.spec));
    const code = await controllerMain({ AGENTIUM_SESSION_FILE: specFile, AGENTIUM_STATE_DIR: world.stateDir, TEST_APP_KEY_PEM: world.app.privateKey, PATH: process.env.PATH });
    expect(code).toBe(0);
    expect(revocations(world.github)).toBe(1);
    const log = await readFile(join(world.stateDir, 'controller.log'), 'utf8');
    expect(log).toMatch(/outcome: no_changes/);
    expect(log).not.toContain(world.app.privateKey.split('\n')[1]);
    expect(JSON.parse(await readFile(join(world.stateDir, 'terminate-self.json'), 'utf8'))).toMatchObject({ calls: 1 });
  });
});
