/**
 * Tiered counts written through the SQL runner's batch store, on real PGlite and PostgreSQL: a
 * batch sums its events' deltas and writes each document once, and what it stores — documents,
 * field sources — is what writing them event by event stores.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase, SqlExecutor } from '../../events/sql/database.ts';
import { BatchDocumentStore, readModelTableSql } from '../../projections/sql/documentStore.ts';
import type { FieldSource } from '../../projections/types.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { applyTieredDelta, tieredDelta, type TieredCounts, type TieredEntry } from './tieredCounts.ts';

const BY_YEAR: TieredCounts = { summaries: 'years', buckets: 'dates', bucketOf: (date) => date.slice(0, 4) };
const e = (n: number): FieldSource => ({ position: `1:${n}`, eventId: `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}` });
const entry = (scope: string, series: string, value: string): TieredEntry => ({ scope, series, value });

/** Events as (before, after) entries: arrivals, a move between scopes, one counted and uncounted again. */
const EVENTS: [TieredEntry[], TieredEntry[]][] = [
  [[], [entry('city', 'living', '1950-03-01'), entry('A', 'living', '1950-03-01')]],
  [[], [entry('city', 'living', '1990-07-09'), entry('A', 'living', '1990-07-09'), entry('A', 'alone', '1990-07-09')]],
  [[], [entry('city', 'living', '1950-03-01'), entry('B', 'living', '1950-03-01')]],
  [[entry('A', 'alone', '1990-07-09')], []],
  [[entry('A', 'living', '1990-07-09')], [entry('C', 'living', '1990-07-09')]],
  [[], [entry('C', 'alone', '2001-01-01')]],
  [[entry('C', 'alone', '2001-01-01')], []],
];

for (const openBackend of BACKENDS) {
  describe(`tiered counts in batches on ${openBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let db: SqlDatabase;
    const rows = async (table: string) =>
      (await db.query(`SELECT collection, id, doc, sources, source FROM ${table} ORDER BY collection, id`)).rows;
    const inBatch = async (table: string, work: (docs: BatchDocumentStore) => Promise<void>, counting?: { selects: number }) => {
      await db.transaction(async (tx) => {
        const executor: SqlExecutor = {
          query<Row>(sql: string, params?: readonly unknown[]) {
            if (counting && sql.startsWith('SELECT')) counting.selects++;
            return tx.query<Row>(sql, params);
          },
        };
        const docs = new BatchDocumentStore(executor, table);
        await work(docs);
        await docs.flush();
      });
    };
    const apply = (docs: BatchDocumentStore, i: number) => applyTieredDelta(docs, BY_YEAR, tieredDelta(...EVENTS[i]!), e(i + 1));

    before(async () => {
      backend = await openBackend();
    });
    after(async () => backend.dispose());
    beforeEach(async () => {
      db = await backend.fresh();
      await db.query(readModelTableSql('rm_one_by_one'));
      await db.query(readModelTableSql('rm_one_batch'));
    });

    it('stores the same documents and sources whether the events come one batch each or all in one', async () => {
      for (let i = 0; i < EVENTS.length; i++) await inBatch('rm_one_by_one', (docs) => apply(docs, i));
      const counting = { selects: 0 };
      await inBatch('rm_one_batch', async (docs) => {
        for (let i = 0; i < EVENTS.length; i++) await apply(docs, i);
      }, counting);
      const stored = await rows('rm_one_batch');
      assert.deepEqual(stored, await rows('rm_one_by_one'));
      // The summary and bucket documents were read once for the batch, not once an event.
      assert.equal(counting.selects, 2);
      const city = stored.find((r) => r.collection === 'years' && r.id === 'city');
      assert.deepEqual(city?.doc, { scope: 'city', buckets: { living: { 1950: 2, 1990: 1 } } });
      assert.deepEqual(city?.source, e(3), 'the last event that changed the city counts');
      const c2001 = stored.find((r) => r.collection === 'dates' && r.id === 'C:2001');
      assert.deepEqual(c2001?.doc, { scope: 'C', bucket: '2001', values: { alone: {} } }, 'counted and uncounted again: the document stays, empty');
    });

    it('writes the counts before a query inside the batch reads the table', async () => {
      await inBatch('rm_one_batch', async (docs) => {
        await apply(docs, 0);
        assert.equal(await docs.collection('years').count(), 2);
        await apply(docs, 2);
      });
      const city = (await rows('rm_one_batch')).find((r) => r.collection === 'years' && r.id === 'city');
      assert.deepEqual(city?.doc, { scope: 'city', buckets: { living: { 1950: 2 } } });
    });
  });
}
