import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { openPlatform, seedIfEmpty, type Platform, type SeedStatus } from '../bin/platform.ts';
import { ValidationError } from '../events/errors.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { BACKENDS, type TestBackend } from '../test/helpers/databases.ts';
import { incremented, TEST_EVENT_TYPES, waitUntilVisible } from '../test/helpers/events.ts';
import { counterProjection, type CounterDoc } from '../test/helpers/projections.ts';
import { formatLag, ProgressRouter, replayProjections } from './replay.ts';

const counterModule: SubgraphModule = {
  name: 'population',
  typeDefs: parse('type Query { counters: Int }'),
  eventTypes: TEST_EVENT_TYPES,
  projections: [counterProjection()],
  resolvers: () => ({}),
  async seed(runtime) {
    await runtime.store.append('test.counter-seeded', [incremented(5)]);
  },
};

const silent = { level: 'silent' } as const;

for (const openBackend of BACKENDS) {
  describe('replay command', () => {
    let backend: TestBackend;
    let platform: Platform;
    const router = new ProgressRouter();
    const bars: { label: string; total: number; done: number; stopped: boolean }[] = [];
    const progress = (label: string, total: number) => {
      const bar = { label, total, done: 0, stopped: false };
      bars.push(bar);
      return { increment: (by: number) => void (bar.done += by), stop: () => void (bar.stopped = true) };
    };

    before(async () => {
      backend = await openBackend();
      const { pino } = await import('pino');
      platform = await openPlatform({ modules: [counterModule], db: await backend.fresh(), env: {}, logger: pino(silent), runner: { batchSize: 7, onProgress: router.onProgress } });
    });
    after(async () => {
      await platform.close();
      await backend.dispose();
    });

    it('seeds an empty store once, then rebuilds with progress and reports no lag', async () => {
      const statuses: SeedStatus[] = [];
      const seeded = await seedIfEmpty(platform, (status) => statuses.push(status));
      assert.deepEqual(seeded && { commands: seeded.commands, events: seeded.events }, { commands: 1, events: 1 });
      assert.deepEqual(statuses.at(0), { module: 'population', modulesDone: 0, modules: 1, events: 0 });
      assert.deepEqual(statuses.at(-1), { module: 'population', modulesDone: 1, modules: 1, events: 1 });
      assert.equal(await seedIfEmpty(platform), undefined, 'a store with events is never seeded again');
      for (let i = 0; i < 40; i++) await platform.store.append('test.counter-a', [incremented(1)]);
      await waitUntilVisible(platform.store, (await platform.store.readStream('test.counter-a', { direction: 'backwards', limit: 1 }))[0]!.position);
      await platform.runner.catchUp();

      const reports = await replayProjections(platform, [], router, progress);
      assert.deepEqual(reports.map((r) => [r.projection, r.events]), [['test.counters', 41]]);
      assert.deepEqual(bars.map((b) => [b.label, b.total, b.done, b.stopped]), [['test.counters', 41, 41, true]]);

      const counters = platform.readModels.of('test.counters').collection<CounterDoc>('counters');
      assert.equal((await counters.get('test.counter-a'))?.doc.total, 40);
      assert.equal((await counters.get('test.counter-seeded'))?.doc.total, 5);
      const lag = await platform.runner.lag();
      assert.deepEqual(lag.map((l) => [l.projection, l.events]), [['test.counters', 0]]);
      assert.match(formatLag(lag), /test\.counters\s+0\s+0\.0\s+yes/);
    });

    it('refuses an unknown projection by name and rebuilds nothing', async () => {
      const before = await platform.db!.query('SELECT build_id FROM proj_builds ORDER BY build_id');
      await assert.rejects(replayProjections(platform, ['test.nope'], router, progress), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /no projection named test\.nope; known: test\.counters/);
        return true;
      });
      const afterward = await platform.db!.query('SELECT build_id FROM proj_builds ORDER BY build_id');
      assert.deepEqual(afterward.rows, before.rows);
    });
  });
}
