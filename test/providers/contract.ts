/**
 * The provider contract suite: the SAME behaviour checked for every cloud (gcp, aws; local where
 * it applies), so the providers cannot drift apart. A provider test file calls
 * `describeProviderContract(factory)`; the factory starts that cloud's fakes and returns a fixture.
 *
 * What a fixture must offer (everything through the fake's own state, never through the provider):
 * - `provider`: the real provider, its real SDK pointed at the fake;
 * - `plan(issue)`: a launch plan for a new session (fresh session id each call);
 * - `seedManaged(n)`: create n instances carrying the managed label/tag directly in the fake,
 *   spread over the configured zones/subnets, and return their session ids;
 * - `seedUnmanaged(n)`: create n instances WITHOUT the managed marker (they must never be touched);
 * - `countManaged()` / `countUnmanaged()`: live instances of each kind (terminated ones excluded);
 * - `makeUnreachable()`: one configured zone/region stops answering list calls; returns its name;
 * - `close()`: stop the fakes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudProvider, LaunchPlan } from '../../src/providers/types.js';

export interface ContractFixture {
  provider: CloudProvider;
  plan(issue: number): LaunchPlan;
  seedManaged(count: number): Promise<string[]>;
  seedUnmanaged(count: number): Promise<void>;
  countManaged(): Promise<number>;
  countUnmanaged(): Promise<number>;
  /** Make one configured zone/region stop answering list calls; returns its name. */
  makeUnreachable(): Promise<string>;
  close(): Promise<void>;
}

export interface ContractFactory {
  name: string;
  setup(): Promise<ContractFixture>;
}

export function describeProviderContract(factory: ContractFactory): void {
  describe(`provider contract: ${factory.name}`, () => {
    let fixture: ContractFixture;
    beforeEach(async () => {
      fixture = await factory.setup();
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('launch creates one instance and list shows it as a managed session', async () => {
      const plan = fixture.plan(101);
      const launched = await fixture.provider.launch(plan);
      expect(launched.sessionId).toBe(plan.spec.id);
      expect(launched.instance).toBeTruthy();
      expect(launched.location).toBeTruthy();
      expect(await fixture.countManaged()).toBe(1);

      const { sessions, unreachable } = await fixture.provider.list();
      expect(unreachable).toEqual([]);
      expect(sessions).toHaveLength(1);
      const [session] = sessions;
      expect(session).toMatchObject({ sessionId: plan.spec.id, instance: launched.instance, location: launched.location, issue: 101 });
      expect(session?.deadline).toBe(new Date(Math.floor(Date.parse(plan.spec.deadline) / 1000) * 1000).toISOString());
      expect(session?.state).toMatch(/^[a-z-]+$/);
    });

    it('launch is idempotent per session: launching the same plan again creates nothing new', async () => {
      const plan = fixture.plan(102);
      const first = await fixture.provider.launch(plan);
      const second = await fixture.provider.launch(plan);
      expect(second.instance).toBe(first.instance);
      expect(await fixture.countManaged()).toBe(1);
    });

    it('list returns managed sessions only', async () => {
      const ids = await fixture.seedManaged(5);
      await fixture.seedUnmanaged(3);
      const { sessions } = await fixture.provider.list();
      expect(sessions.map((s) => s.sessionId).sort()).toEqual([...ids].sort());
    });

    it('list and destroy name a zone/region that did not answer, and never claim a session gone because of it', async () => {
      const ids = await fixture.seedManaged(6);
      const location = await fixture.makeUnreachable();

      const { sessions, unreachable } = await fixture.provider.list();
      expect(unreachable).toEqual([{ location, reason: expect.any(String) }]);
      expect(sessions.every((s) => ids.includes(s.sessionId) && !s.location.startsWith(location))).toBe(true);

      const results = await fixture.provider.destroy(['agentium-998-elsewhere']);
      expect(results).toEqual([
        expect.objectContaining({ sessionId: 'agentium-998-elsewhere', outcome: 'failed', error: expect.stringContaining(location) }),
        expect.objectContaining({ sessionId: '*', location, outcome: 'failed' }),
      ]);
    });

    it('destroy deletes exactly the named sessions, and again reports them already gone', async () => {
      const ids = await fixture.seedManaged(4);
      await fixture.seedUnmanaged(2);
      const [first = '', second = ''] = ids;
      const results = await fixture.provider.destroy([first, second]);
      expect(results.map((r) => [r.sessionId, r.outcome]).sort()).toEqual([
        [first, 'deleted'],
        [second, 'deleted'],
      ].sort());
      expect(results.every((r) => r.location !== '')).toBe(true);
      expect(await fixture.countManaged()).toBe(2);
      expect(await fixture.countUnmanaged()).toBe(2);

      const again = await fixture.provider.destroy([first]);
      expect(again).toEqual([expect.objectContaining({ sessionId: first, outcome: 'already-gone' })]);
    });

    it('destroy of an unknown session is already gone, not an error', async () => {
      const results = await fixture.provider.destroy(['agentium-999-nosuch']);
      expect(results).toEqual([expect.objectContaining({ sessionId: 'agentium-999-nosuch', outcome: 'already-gone' })]);
    });

    it("destroy 'all' removes every managed instance and no unmanaged one; a second run finds nothing", async () => {
      await fixture.seedManaged(12);
      await fixture.seedUnmanaged(5);
      const launched = await fixture.provider.launch(fixture.plan(103));
      const results = await fixture.provider.destroy('all', { concurrency: 4 });
      expect(results).toHaveLength(13);
      expect(results.filter((r) => r.outcome !== 'deleted')).toEqual([]);
      expect(results.map((r) => r.sessionId)).toContain(launched.sessionId);
      expect(await fixture.countManaged()).toBe(0);
      expect(await fixture.countUnmanaged()).toBe(5);
      expect(await fixture.provider.destroy('all')).toEqual([]);
      expect(await fixture.provider.list()).toEqual({ sessions: [], unreachable: [] });
    });
  });
}
