import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { comparePositions } from '../events/position.ts';
import { runnerContract, sqlRunnerHarness } from './runner.contract.ts';
import { ProjectionRunner } from './runner.ts';
import { BACKENDS, pgliteBackend, postgresBackend, storeOnFreshDatabase } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, testMetadata } from '../test/helpers/events.ts';
import { counterProjection } from '../test/helpers/projections.ts';

describe('projection runner on PGlite', () => runnerContract(sqlRunnerHarness(pgliteBackend)));
describe('projection runner on PostgreSQL', () => runnerContract(sqlRunnerHarness(postgresBackend)));

describe('catch-up batches on PGlite', () => {
  it('reads catchUpBatchSize events per transaction in catchUp, and batchSize in the live loop', async () => {
    await using opened = await storeOnFreshDatabase(pgliteBackend, createTestRegistry());
    const { db, store } = opened;
    const batches: number[] = [];
    const runner = new ProjectionRunner(db, store, [counterProjection()], { batchSize: 2, catchUpBatchSize: 50, onProgress: (p) => void (p.applied > 0 && batches.push(p.applied)) });
    try {
      await store.append('test.counter-a', Array.from({ length: 30 }, (_, i) => incremented(i + 1)));
      await runner.catchUp();
      assert.deepEqual(batches, [30], 'the catch-up in one transaction');

      batches.length = 0;
      await store.append('test.counter-a', Array.from({ length: 5 }, (_, i) => incremented(i + 31)));
      await runner.start();
      for (let waited = 0; batches.reduce((a, b) => a + b, 0) < 5 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(batches, [2, 2, 1], 'the live loop in batches of batchSize');
    } finally {
      await runner.stop();
    }
  });
});

describe('isCaughtUp on PGlite', () => {
  it('says true only when every projection is active at its declared version and at the last event committed', async () => {
    await using opened = await storeOnFreshDatabase(pgliteBackend, createTestRegistry());
    const { db, store } = opened;
    const fresh = (version = 1, options: { failOn?: number } = {}) => new ProjectionRunner(db, store, [counterProjection(version, options)]);
    assert.equal(await fresh().isCaughtUp(), false, 'no build yet');
    await store.append('test.counter-a', [incremented(1)]);
    await fresh().catchUp();
    assert.equal(await fresh().isCaughtUp(), true, 'a restart with nothing to apply');

    // A batch that failed (a crash in the middle of one is the same: nothing committed) leaves the checkpoint behind.
    await store.append('test.counter-a', [incremented(7)]);
    await assert.rejects(fresh(1, { failOn: 7 }).catchUp(), /refuses by=7/);
    assert.equal(await fresh().isCaughtUp(), false, 'committed events not applied');
    await fresh().catchUp();
    assert.equal(await fresh().isCaughtUp(), true);

    // Events the projection does not handle move the head too: its checkpoint has not scanned them yet.
    await store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'not a counter event' }, metadata: testMetadata }]);
    assert.equal(await fresh().isCaughtUp(), false);
    await fresh().catchUp();
    assert.equal(await fresh().isCaughtUp(), true);

    assert.equal(await fresh(2).isCaughtUp(), false, 'a new version to build');
  });
});

for (const backend of BACKENDS) {
  describe(`read-model indexes of a catch-up on ${backend.name.replace('Backend', '')}`, () => {
    it('indexes a table the catch-up filled from empty when it ends (failed too), and a table left unindexed by a crash when it is next owned', async () => {
      await using opened = await storeOnFreshDatabase(backend, createTestRegistry());
      const { db, store } = opened;
      const indexesOf = async () => {
        const { rows } = await db.query<{ indexdef: string }>(
          `SELECT i.indexdef FROM pg_indexes i JOIN proj_builds b ON i.tablename = b.table_name WHERE b.name = 'test.counters' AND b.status = 'active' AND i.indexdef LIKE '%k_total%'`,
        );
        return rows.length;
      };
      // Each run releases its projections, as a process that ends does.
      const catchUp = async (version: number, options: { failOn?: number } = {}) => {
        const runner = new ProjectionRunner(db, store, [counterProjection(version, options)]);
        try {
          await runner.catchUp();
        } finally {
          await runner.stop();
        }
      };
      await store.append('test.counter-a', [incremented(1), incremented(2)]);
      await catchUp(1);
      assert.equal(await indexesOf(), 1, 'indexed once filled');

      // A failed catch-up: the first build is filled up to its failure, and indexed all the same.
      await store.append('test.counter-a', [incremented(7)]);
      await assert.rejects(catchUp(2, { failOn: 7 }), /refuses by=7/);
      await db.query(`UPDATE proj_builds SET status = 'retired' WHERE name = 'test.counters'`);
      await assert.rejects(catchUp(1, { failOn: 7 }), /refuses by=7/);
      assert.equal(await indexesOf(), 1, 'indexed after a failure');

      // A crash before the indexes were made: the next owner makes them.
      const { rows: [active] } = await db.query<{ table_name: string }>(`SELECT table_name FROM proj_builds WHERE name = 'test.counters' AND status = 'active'`);
      const { rows: indexes } = await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%k_total%'`, [active!.table_name]);
      for (const { indexname } of indexes) await db.query(`DROP INDEX ${indexname}`);
      assert.equal(await indexesOf(), 0);
      await assert.rejects(catchUp(1, { failOn: 7 }), /refuses by=7/);
      assert.equal(await indexesOf(), 1, 'indexed by the next owner');
    });
  });
}

describe('projection lag on PostgreSQL', () => {
  it('counts the events committed behind a transaction open elsewhere on the server, which readers cannot pass yet', async () => {
    await using opened = await storeOnFreshDatabase(postgresBackend, createTestRegistry());
    const { db, store } = opened;
    const runner = new ProjectionRunner(db, store, [counterProjection()]);
    const holder = new pg.Client({ connectionString: opened.backend.url });
    await holder.connect();
    try {
      await store.append('test.counter-a', [incremented(1)]);
      await runner.catchUp();
      assert.deepEqual((await runner.lag()).map((l) => [l.events, l.seconds]), [[0, 0]]);

      // Another session's open transaction holds the gap-safe head back...
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      // ...so these committed events cannot be read yet: the projection stands where it was.
      const { events } = await store.append('test.counter-a', [incremented(2), incremented(3)]);
      await store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'not a counter event' }, metadata: testMetadata }]);
      assert.ok(comparePositions(await store.headPosition(), events[0]!.position) < 0, 'the visible head lags');
      await new Promise((r) => setTimeout(r, 20));
      const [stalled] = await runner.lag();
      assert.equal(stalled!.events, 2, 'the two counter events, not the note');
      assert.ok(stalled!.seconds > 0, 'the oldest waiting event has an age');

      await holder.query('COMMIT');
      await runner.catchUp();
      assert.deepEqual((await runner.lag()).map((l) => [l.events, l.seconds]), [[0, 0]]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await runner.stop();
    }
  });
});
