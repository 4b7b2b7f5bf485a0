/**
 * The read models' query-result cache, on real PGlite and PostgreSQL: a repeated query is answered
 * without reading the table while its projection's checkpoint stays, a batch committed with a new
 * checkpoint is seen by the very next read, readers asking together share one read, answers are
 * frozen (no reader changes what the next one gets), and a write through the query side is seen at once.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { backendForSuite } from '../../test/helpers/suiteBackend.ts';
import type { Doc } from '../types.ts';
import { ensureProjectionSchema } from '../runner.ts';
import { SqlReadModels } from './readModels.ts';
import { readModelTableSql } from './documentStore.ts';

const TABLE = 'rm_result_cache_test';
const PROJECTION = 'test.cached';
const source = { position: '1:1', eventId: '00000000-0000-4000-8000-000000000001' };

interface Figure extends Doc {
  residents: number;
  bands: number[];
}

for (const openBackend of BACKENDS) {
  describe(`read-model query results on ${openBackend.name.replace('Backend', '')}`, () => {
    const backend = backendForSuite(openBackend);
    let db: SqlDatabase;
    /** `db`, noting the statements that read the read model's table (not the checkpoint or the table's location). */
    let spied: SqlDatabase;
    let tableReads: string[];

    /** What the projection runner does: the documents and the checkpoint move in one transaction. */
    async function commitBatch(residents: number, checkpoint: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE ${TABLE} SET doc = $1::jsonb WHERE collection = 'figures' AND id = 'd1'`, [JSON.stringify({ residents, bands: [1, 2] })]);
        await tx.query(`UPDATE proj_builds SET checkpoint = $1, changed_through = $1 WHERE name = $2`, [checkpoint, PROJECTION]);
      });
    }

    beforeEach(async () => {
      db = await backend.fresh();
      await ensureProjectionSchema(db);
      await db.query(readModelTableSql(TABLE));
      await db.query(`INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, status) VALUES ($1, 'b1', 1, $2, '0:5', 'active')`, [PROJECTION, TABLE]);
      await db.query(`INSERT INTO ${TABLE} (collection, id, doc, sources, source) VALUES ('figures', 'd1', $1::jsonb, '{}', $2::jsonb)`, [
        JSON.stringify({ residents: 10, bands: [1, 2] }),
        JSON.stringify(source),
      ]);
      tableReads = [];
      spied = Object.create(db) as SqlDatabase;
      spied.query = (sql, params) => {
        if (sql.includes(TABLE) && sql.startsWith('SELECT')) tableReads.push(sql);
        return db.query(sql, params);
      };
    });

    it('answers a repeated query from the cache while the checkpoint stays, and reads again once a batch moved it', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      assert.equal((await figures.get('d1'))?.doc.residents, 10);
      assert.equal((await figures.get('d1'))?.doc.residents, 10);
      assert.deepEqual((await figures.getMany(['d1'])).map((d) => d?.doc.residents), [10]);
      assert.equal(tableReads.length, 2, 'get once, getMany once: the repeated get came from the cache');

      await commitBatch(11, '0:6');
      assert.equal((await figures.get('d1'))?.doc.residents, 11, 'the very next read sees the batch');
      assert.equal(tableReads.length, 3);
    });

    it('keeps the results while the checkpoint only moves past events the projection does not handle (each request’s access record)', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      await commitBatch(11, '0:6');
      assert.equal((await figures.get('d1'))?.doc.residents, 11);
      // What the runner does for a projection with nothing to apply: the checkpoint moves, the documents stay.
      await db.query(`UPDATE proj_builds SET checkpoint = '0:9' WHERE name = $1`, [PROJECTION]);
      assert.equal((await figures.get('d1'))?.doc.residents, 11);
      assert.equal(tableReads.length, 1, 'the idle move kept the result');
      await commitBatch(12, '0:10');
      assert.equal((await figures.get('d1'))?.doc.residents, 12, 'a batch that applied events is seen at once');
    });

    it('forgets the results when another build is swapped in at the same position, and never keeps a read of the retired table', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      await commitBatch(11, '0:6');
      assert.equal((await figures.get('d1'))?.doc.residents, 11);
      await db.query(readModelTableSql(`${TABLE}_b2`));
      await db.query(`INSERT INTO ${TABLE}_b2 (collection, id, doc, sources, source) VALUES ('figures', 'd1', $1::jsonb, '{}', $2::jsonb)`, [JSON.stringify({ residents: 99, bands: [] }), JSON.stringify(source)]);
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE proj_builds SET status = 'retired' WHERE name = $1`, [PROJECTION]);
        await tx.query(`INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, changed_through, status) VALUES ($1, 'b2', 2, $2, '0:6', '0:6', 'active')`, [PROJECTION, `${TABLE}_b2`]);
      });
      assert.equal((await figures.get('d1'))?.doc.residents, 99, 'the new build, though the position is the same');

      // A reader still given the retired table's name (the locator keeps it a while) reads it, and that read is not kept.
      const stale = new SqlReadModels(spied, 60_000);
      const staleFigures = stale.of(PROJECTION).collection<Figure>('figures');
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE proj_builds SET status = 'retired' WHERE name = $1 AND build_id = 'b2'`, [PROJECTION]);
        await tx.query(`UPDATE proj_builds SET status = 'active' WHERE name = $1 AND build_id = 'b1'`, [PROJECTION]);
      });
      assert.equal((await staleFigures.get('d1'))?.doc.residents, 11, 'the locator finds b1');
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE proj_builds SET status = 'retired' WHERE name = $1 AND build_id = 'b1'`, [PROJECTION]);
        await tx.query(`UPDATE proj_builds SET status = 'active' WHERE name = $1 AND build_id = 'b2'`, [PROJECTION]);
      });
      const reads = tableReads.length;
      assert.equal((await staleFigures.get('d1'))?.doc.residents, 11, 'the locator still names the retired table');
      assert.equal((await staleFigures.get('d1'))?.doc.residents, 11);
      assert.equal(tableReads.length, reads + 2, 'neither read of the retired table was kept under the new build');
    });

    it('reads the checkpoint after each read was asked for: concurrent readers share one checkpoint statement and never get less than a fresh read', async () => {
      const readModels = new SqlReadModels(spied, 0);
      const figures = readModels.of(PROJECTION).collection<Figure>('figures');
      await figures.get('d1');
      await commitBatch(12, '0:7');
      const answers = await Promise.all(Array.from({ length: 5 }, () => figures.get('d1')));
      assert.deepEqual(
        answers.map((a) => a?.doc.residents),
        [12, 12, 12, 12, 12],
      );
    });

    it('hands every reader the same frozen answer: no reader can change what the next one gets', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      const first = await figures.get('d1');
      assert.throws(() => {
        first!.doc.residents = 999;
      }, TypeError);
      assert.throws(() => first!.doc.bands.push(3), TypeError);
      const second = await figures.get('d1');
      assert.deepEqual(second?.doc, { residents: 10, bands: [1, 2] });
      assert.equal(tableReads.length, 1);
    });

    it('answers the same query asked while it is being read at the same checkpoint with that one read', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      const answers = await Promise.all(Array.from({ length: 5 }, () => figures.get('d1')));
      assert.deepEqual(
        answers.map((a) => a?.doc.residents),
        [10, 10, 10, 10, 10],
      );
      assert.equal(tableReads.length, 1, 'one read of the table for the five readers');
    });

    it('sees a write through the query side at once, though the checkpoint did not move', async () => {
      const figures = new SqlReadModels(spied, 0).of(PROJECTION).collection<Figure>('figures');
      await figures.get('d1');
      await figures.upsert('d1', { residents: 20, bands: [] }, source);
      assert.equal((await figures.get('d1'))?.doc.residents, 20);
    });
  });
}
