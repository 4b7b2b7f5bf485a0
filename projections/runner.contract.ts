/**
 * What the projection runner and its document store guarantee, run against PGlite and PostgreSQL by
 * `runner.int.spec.ts` and against MongoDB read models by `mongodb/mongoDocumentStore.int.spec.ts`;
 * a backend supplies a `RunnerHarness`, never a copy of this suite.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { comparePositions } from '../events/position.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { EventStore } from '../events/types.ts';
import { SqlReadModels } from './sql/readModels.ts';
import type { Projector, ProjectorOptions, ReadModels } from './readModels.ts';
import { ProjectionRunner } from './runner.ts';
import type { Projection } from './types.ts';
import type { TestBackend } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, testMetadata } from '../test/helpers/events.ts';
import { counterProjection, notesProjection, type CounterDoc, type NotesDoc } from '../test/helpers/projections.ts';

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A read model that does not exist yet counts as "not yet".
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the suite needs from a read-model backend. */
export interface RunnerHarness {
  /** An empty event log (returned) and empty read models. */
  fresh(): Promise<EventStore>;
  runner(projections: readonly Projection[], options: Pick<ProjectorOptions, 'batchSize' | 'lockRetryMs' | 'onProgress'>): Projector;
  /** The query side, uncached. */
  readModels(): ReadModels;
  /** Every build, oldest first: its version, status and where its documents live. */
  builds(): Promise<{ version: number; status: string; location: string }[]>;
  /** A runner of another process (its own connections), where the backend can have one. */
  otherProcess?(projections: readonly Projection[], options: Pick<ProjectorOptions, 'lockRetryMs'>): Projector;
  /** Whether a batch's writes commit atomically with its checkpoint (false: position-guarded writes). */
  atomicBatches: boolean;
  dispose(): Promise<void>;
}

/** The SQL backends (PGlite, PostgreSQL) as a harness. */
export function sqlRunnerHarness(openBackend: () => Promise<TestBackend>): () => Promise<RunnerHarness> {
  return async () => {
    const backend = await openBackend();
    let state: { db: Awaited<ReturnType<TestBackend['fresh']>>; store: SqlEventStore } | undefined;
    const current = () => {
      if (!state) throw new Error('call fresh() first');
      return state;
    };
    return {
      async fresh() {
        await state?.store.close();
        const db = await backend.fresh();
        state = { db, store: await SqlEventStore.open(db, createTestRegistry()) };
        return state.store;
      },
      runner: (projections, options) => new ProjectionRunner(current().db, current().store, projections, options),
      readModels: () => new SqlReadModels(current().db, 0),
      async builds() {
        const { rows } = await current().db.query<{ version: number; status: string; table_name: string }>(
          'SELECT version, status, table_name FROM proj_builds ORDER BY created_at',
        );
        return rows.map((r) => ({ version: r.version, status: r.status, location: r.table_name }));
      },
      ...(backend.connectAgain && {
        otherProcess: (projections: readonly Projection[], options: Pick<ProjectorOptions, 'lockRetryMs'>) =>
          new ProjectionRunner(backend.connectAgain!(), current().store, projections, options),
      }),
      atomicBatches: true,
      async dispose() {
        await state?.store.close();
        await backend.dispose();
      },
    };
  };
}

export function runnerContract(openHarness: () => Promise<RunnerHarness>): void {
  let harness: RunnerHarness;
  let store: EventStore;
  const runners: Projector[] = [];

  function runner(...args: [ReturnType<typeof counterProjection>, number?]): Projector {
    const r = harness.runner([args[0]], { batchSize: args[1] ?? 50, lockRetryMs: 100 });
    runners.push(r);
    return r;
  }
  const counters = (models = harness.readModels()) => models.of('test.counters').collection<CounterDoc>('counters');

  before(async () => {
    harness = await openHarness();
  });
  after(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await harness.dispose();
  });
  beforeEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    store = await harness.fresh();
  });

  describe('applying events', () => {
    it('folds the handled events into documents and records which event set each field', async () => {
      await store.append('test.counter-a', [incremented(2), incremented(3)]);
      await store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'not handled' }, metadata: testMetadata }]);
      const { events } = await store.append('test.counter-a', [{ type: 'CounterReset', data: { reason: 'audit' }, metadata: testMetadata }]);
      await runner(counterProjection()).catchUp();
      const doc = await counters().get('test.counter-a');
      assert.deepEqual(doc?.doc, { stream: 'test.counter-a', total: 0, increments: 2, lastBy: 3, resetReason: 'audit' });
      assert.deepEqual(doc?.fieldSources.resetReason, { position: events[0]!.position, eventId: events[0]!.eventId });
      assert.notDeepEqual(doc?.fieldSources.increments, doc?.fieldSources.resetReason);
    });

    it('applies each event exactly once across repeated catch-ups and small batches', async () => {
      for (let i = 0; i < 7; i++) await store.append(`test.counter-${i % 3}`, [incremented(1), incremented(1), incremented(1)]);
      const r = runner(counterProjection(), 4);
      await r.catchUp();
      await r.catchUp();
      await store.append('test.counter-0', [incremented(100)]);
      await r.catchUp();
      const docs = await counters().getMany(['test.counter-0', 'test.counter-1', 'test.counter-2', 'test.counter-9']);
      assert.deepEqual(docs.map((d) => d?.doc.total), [109, 6, 6, undefined]);
      const [lag] = await r.lag();
      assert.equal(lag!.seconds, 0);
    });

    it('rolls back the whole batch when a projection throws, leaving the checkpoint where it was', async () => {
      await store.append('test.counter-a', [incremented(1), incremented(13), incremented(1)]);
      const failing = runner(counterProjection(1, { failOn: 13 }), 10);
      await assert.rejects(failing.catchUp(), /refuses by=13/);
      if (harness.atomicBatches) assert.equal(await counters().get('test.counter-a'), undefined);
      else assert.equal((await counters().get('test.counter-a'))?.doc.total, 1, 'without transactions, events before the failure stay applied, once');
      await failing.stop();
      const healthy = runner(counterProjection(1), 10);
      await healthy.catchUp();
      assert.equal((await counters().get('test.counter-a'))?.doc.total, 15);
    });

    it('tells the query side how far each built projection has projected (read-after-write)', async () => {
      const { events } = await store.append('test.counter-a', [incremented(1)]);
      await runner(counterProjection()).catchUp();
      const checkpoints = await harness.readModels().checkpoints(['test.counters', 'test.unknown']);
      assert.deepEqual([...checkpoints.keys()], ['test.counters'], 'a projection never built has no checkpoint');
      assert.ok(comparePositions(checkpoints.get('test.counters')!, events[0]!.position) >= 0, 'the checkpoint is at or past the last handled event');
    });

    it('follows live appends once started', async () => {
      const r = runner(counterProjection());
      await r.start();
      await store.append('test.counter-live', [incremented(5)]);
      await until(async () => (await counters().get('test.counter-live'))?.doc.total === 5);
      await store.append('test.counter-live', [incremented(6)]);
      await until(async () => (await counters().get('test.counter-live'))?.doc.total === 11);
    });
  });

  describe('several projections', () => {
    const note = (text: string) => ({ type: 'NoteWritten', data: { text }, metadata: testMetadata });
    const notes = (models = harness.readModels()) => models.of('test.notes').collection<NotesDoc>('notes');
    const several = (projections: Projection[]) => {
      const r = harness.runner(projections, { batchSize: 3, lockRetryMs: 100 });
      runners.push(r);
      return r;
    };

    it('advances them from shared reads, each with exactly its own events, also while one is rebuilt', async () => {
      await store.append('test.counter-a', [incremented(1), incremented(2)]);
      await store.append('test.note-1', [note('a'), note('b')]);
      await store.append('test.counter-a', [incremented(3)]);
      const r = several([counterProjection(), notesProjection()]);
      await r.catchUp();
      assert.equal((await counters().get('test.counter-a'))?.doc.total, 6);
      assert.deepEqual((await notes().get('test.note-1'))?.doc.texts, ['a', 'b']);

      await r.start();
      await store.append('test.note-1', [note('c')]);
      await r.rebuild('test.notes');
      await store.append('test.counter-a', [incremented(4)]);
      await store.append('test.note-1', [note('d')]);
      await until(async () => (await counters().get('test.counter-a'))?.doc.total === 10);
      await until(async () => (await notes().get('test.note-1'))?.doc.texts.length === 4);
      assert.deepEqual((await notes().get('test.note-1'))?.doc.texts, ['a', 'b', 'c', 'd']);
      const builds = await harness.builds();
      assert.equal(builds.filter((b) => b.status === 'active').length, 2);
      assert.equal(builds.filter((b) => b.status === 'retired').length, 1, 'the notes build the rebuild replaced');
    });

    it('keeps the others going live when one of them fails a batch', async () => {
      const r = several([counterProjection(1, { failOn: 13 }), notesProjection()]);
      await r.start();
      await store.append('test.counter-a', [incremented(13)]);
      await store.append('test.note-1', [note('still served')]);
      await until(async () => (await notes().get('test.note-1'))?.doc.texts.length === 1);
      assert.equal(await counters().get('test.counter-a'), undefined, 'the failing batch committed nothing');
      await store.append('test.note-1', [note('and after')]);
      await until(async () => (await notes().get('test.note-1'))?.doc.texts.length === 2);
    });
  });

  describe('documents', () => {
    beforeEach(async () => {
      for (let i = 0; i < 12; i++) await store.append(`test.counter-${String(i).padStart(2, '0')}`, [incremented(i)]);
      await runner(counterProjection()).catchUp();
    });

    it('finds by equality, in, ranges and null, with counts', async () => {
      const c = counters();
      assert.deepEqual((await c.find({ where: { total: 3 } })).items.map((i) => i.node.id), ['test.counter-03']);
      assert.deepEqual((await c.find({ where: { total: { in: [1, 11] } } })).items.map((i) => i.node.id), ['test.counter-01', 'test.counter-11']);
      assert.equal(await c.count({ total: { gte: 4, lt: 8 } }), 4);
      assert.equal(await c.count({ resetReason: null }), 12);
      assert.equal(await c.count({ stream: { gt: 'test.counter-09' } }), 2);
    });

    it('pages with keyset cursors in either direction without gaps or repeats', async () => {
      const c = counters();
      const seen: number[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await c.find({ sortBy: 'total', direction: 'desc', first: 5, after });
        seen.push(...page.items.map((i) => i.node.doc.total));
        if (!page.hasNextPage) break;
        after = page.endCursor ?? undefined;
      }
      assert.deepEqual(seen, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      await assert.rejects(c.find({ after: 'not-a-cursor' }), /is not one this list returned/);
    });
  });

  describe('versions and rebuilds', () => {
    it('builds a new version into a fresh table while queries keep reading the old one, then swaps', async () => {
      await store.append('test.counter-a', [incremented(1), incremented(2)]);
      const v1 = runner(counterProjection(1));
      await v1.catchUp();
      await v1.stop();
      const models = harness.readModels();
      assert.equal((await counters(models).get('test.counter-a'))?.doc.total, 3);

      // The v2 build applies one event per batch; after each unfinished batch, v1 still answers.
      const servedDuringBuild: (number | undefined)[] = [];
      const pending: Promise<void>[] = [];
      const v2 = harness.runner([counterProjection(2)], {
        batchSize: 1,
        onProgress: (p) => {
          if (!p.caughtUp) pending.push(counters(models).get('test.counter-a').then((d) => void servedDuringBuild.push(d?.doc.total)));
        },
      });
      runners.push(v2);
      await v2.catchUp();
      await Promise.all(pending);
      assert.ok(servedDuringBuild.length >= 1);
      assert.deepEqual(new Set(servedDuringBuild), new Set([3]));
      assert.equal((await counters(models).get('test.counter-a'))?.doc.total, 30);
      assert.deepEqual((await harness.builds()).map((r) => `${r.version}:${r.status}`), ['1:retired', '2:active']);
    });

    it('rebuilds from the start into a fresh table with the same result, keeping one active build', async () => {
      await store.append('test.counter-a', [incremented(4), incremented(5)]);
      const r = runner(counterProjection(1));
      await r.catchUp();
      const before = (await harness.builds()).filter((b) => b.status === 'active');
      await r.rebuild('test.counters');
      assert.equal((await counters().get('test.counter-a'))?.doc.total, 9);
      const rows = await harness.builds();
      assert.deepEqual(rows.map((row) => row.status), ['retired', 'active']);
      assert.notEqual(rows[1]!.location, before[0]!.location);
      await assert.rejects(r.rebuild('test.nothing'), /unknown projection test\.nothing/);
    });
  });

  describe('ownership', () => {
    it('lets one process own a projection at a time and hands it over when the owner goes', async (t) => {
      if (!harness.otherProcess) {
        t.skip('PGlite is one process by construction: there is no second owner to hand over to');
        return;
      }
      const first = runner(counterProjection());
      await first.start();
      await until(async () => first.owned().length === 1);
      const second = harness.otherProcess([counterProjection()], { lockRetryMs: 100 });
      runners.push(second);
      await second.start();
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(second.owned(), [], 'the second process waits while the first owns it');
      await assert.rejects(second.catchUp(), /owned by another process/);
      const started = Date.now();
      await first.stop();
      await until(async () => second.owned().length === 1, 5000);
      assert.ok(Date.now() - started < 5000);
      await store.append('test.counter-h', [incremented(9)]);
      await until(async () => (await counters().get('test.counter-h'))?.doc.total === 9);
    });
  });
}
