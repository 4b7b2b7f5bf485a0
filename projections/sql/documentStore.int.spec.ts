/**
 * Field provenance through the SQL document store, on real PGlite and PostgreSQL: whichever way a
 * document is written (whole or patched, batched or direct, from the cache or not), each field
 * reads back with the event that last set it; rows stored before documents kept a default source
 * read and extend as they did.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase, SqlExecutor } from '../../events/sql/database.ts';
import { ensureProjectionSchema } from '../runner.ts';
import type { FieldSource } from '../types.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { BatchDocumentStore, DocumentCache, readModelTableSql, SqlDocumentStore, unkeyed } from './documentStore.ts';

const TABLE = 'rm_provenance_test';
const e = (n: number): FieldSource => ({ position: `1:${n}`, eventId: `00000000-0000-4000-8000-00000000000${n}` });

for (const openBackend of BACKENDS) {
  describe(`field provenance in the document store on ${openBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let db: SqlDatabase;
    const inBatch = async (work: (docs: BatchDocumentStore) => Promise<void>, cache?: DocumentCache) => {
      let docs: BatchDocumentStore | undefined;
      await db.transaction(async (tx) => {
        docs = new BatchDocumentStore(tx, TABLE, cache);
        await work(docs);
        await docs.flush();
      });
      if (cache) docs!.commitTo(cache);
    };
    const read = async (id: string) => (await new SqlDocumentStore(db, async () => unkeyed(TABLE)).collection('things').get(id))!;

    before(async () => {
      backend = await openBackend();
    });
    after(async () => backend.dispose());
    beforeEach(async () => {
      db = await backend.fresh();
      await db.query(readModelTableSql(TABLE));
    });

    it('attributes each field to the event that last set it, through batches with and without the cache', async () => {
      await inBatch(async (docs) => docs.collection('things').upsert('t1', { a: 1, b: 1, c: 1 }, e(1)));
      // A patch without a read first: only the patched field changes source.
      await inBatch(async (docs) => docs.collection('things').patch('t1', { b: 2 }, e(2)));
      assert.deepEqual((await read('t1')).fieldSources, { a: e(1), b: e(2), c: e(1) });

      const cache = new DocumentCache();
      await inBatch(async (docs) => {
        const things = docs.collection('things');
        assert.deepEqual((await things.get('t1'))?.fieldSources, { a: e(1), b: e(2), c: e(1) });
        await things.patch('t1', { c: 3, d: 3 }, e(3));
      }, cache);
      await inBatch(async (docs) => {
        const things = docs.collection('things');
        // Served from the cache, as committed.
        assert.deepEqual((await things.get('t1'))?.fieldSources, { a: e(1), b: e(2), c: e(3), d: e(3) });
        await things.patch('t1', { a: 4 }, e(4));
      }, cache);
      const stored = await read('t1');
      assert.deepEqual(stored.doc, { a: 4, b: 2, c: 3, d: 3 });
      assert.deepEqual(stored.fieldSources, { a: e(4), b: e(2), c: e(3), d: e(3) });

      await inBatch(async (docs) => docs.collection('things').upsert('t1', { a: 5, z: 5 }, e(5)));
      assert.deepEqual((await read('t1')).fieldSources, { a: e(5), z: e(5) });
    });

    it('reads nothing for a table it filled from empty: absent documents are known, patches are whole documents', async () => {
      const cache = new DocumentCache({ tableStartsEmpty: true, maxDocs: 1 });
      await inBatch(async (docs) => {
        await docs.collection('things').upsert('a', { n: 1 }, e(1));
        await docs.collection('things').upsert('b', { n: 2 }, e(2));
      }, cache);
      let selects = 0;
      await db.transaction(async (tx) => {
        const counting: SqlExecutor = {
          query<Row>(sql: string, params?: readonly unknown[]) {
            if (sql.startsWith('SELECT')) selects++;
            return tx.query<Row>(sql, params);
          },
        };
        const docs = new BatchDocumentStore(counting, TABLE, cache);
        const things = docs.collection('things');
        assert.equal(await things.get('nobody'), undefined);
        await things.patch('c', { n: 3 }, e(3));
        assert.deepEqual((await things.get('c'))?.doc, { n: 3 });
        assert.equal(selects, 0, 'nothing read for documents the table cannot hold');
        // One of a and b was forgotten by the bounded cache: it is read, and found.
        assert.deepEqual((await things.getMany(['a', 'b'])).map((d) => d?.doc.n), [1, 2]);
        assert.equal(selects, 1);
        await docs.flush();
        docs.commitTo(cache);
      });
      assert.deepEqual((await read('c')).doc, { n: 3 });
    });

    it('forgets what a failed batch changed in place: the next batch reads the table again', async () => {
      const cache = new DocumentCache();
      await inBatch(async (docs) => docs.collection('things').upsert('t4', { n: 1, tags: ['a'] }, e(1)), cache);
      await assert.rejects(
        inBatch(async (docs) => {
          const things = docs.collection<{ n: number; tags: string[] }>('things');
          // No copies: the batch's own document, changed in place and written back, then the batch fails.
          const doc = (await things.get('t4'))!.doc;
          doc.n = 2;
          doc.tags.push('b');
          await things.upsert('t4', doc, e(2));
          throw new Error('the batch fails');
        }, cache),
        /the batch fails/,
      );
      await inBatch(async (docs) => {
        const found = await docs.collection('things').get('t4');
        assert.deepEqual(found?.doc, { n: 1, tags: ['a'] });
        assert.deepEqual(found?.fieldSources, { n: e(1), tags: e(1) });
      }, cache);
    });

    it('keeps a patch made without a read when the next read names the document twice', async () => {
      await inBatch(async (docs) => docs.collection('things').upsert('t5', { a: 1, b: 1 }, e(1)));
      await inBatch(async (docs) => {
        const things = docs.collection('things');
        await things.patch('t5', { b: 2 }, e(2));
        assert.deepEqual((await things.getMany(['t5', 't5'])).map((d) => d?.doc), [{ a: 1, b: 2 }, { a: 1, b: 2 }]);
      });
      const stored = await read('t5');
      assert.deepEqual(stored.doc, { a: 1, b: 2 });
      assert.deepEqual(stored.fieldSources, { a: e(1), b: e(2) });
    });

    it('does the same through direct writes', async () => {
      const things = new SqlDocumentStore(db, async () => unkeyed(TABLE)).collection('things');
      await things.patch('t2', { a: 1 }, e(1));
      await things.upsert('t3', { a: 1, b: 1 }, e(1));
      await things.patch('t3', { b: 2 }, e(2));
      assert.deepEqual((await things.get('t2'))?.fieldSources, { a: e(1) });
      assert.deepEqual((await things.get('t3'))?.fieldSources, { a: e(1), b: e(2) });
    });

    it('reads and extends a row stored with one entry per field, and gives older tables the default column once', async () => {
      await db.query(`DROP TABLE ${TABLE}`);
      await db.query(`CREATE TABLE ${TABLE} (collection text NOT NULL, id text COLLATE "C" NOT NULL, doc jsonb NOT NULL, sources jsonb NOT NULL DEFAULT '{}', PRIMARY KEY (collection, id))`);
      await ensureProjectionSchema(db);
      await db.query(
        `INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, status) VALUES ('test.provenance', 'b1', 1, $1, '0:0', 'active')`,
        [TABLE],
      );
      await db.query(`INSERT INTO ${TABLE} (collection, id, doc, sources) VALUES ('things', 'old', $1, $2)`, [
        JSON.stringify({ a: 1, b: 1 }),
        JSON.stringify({ a: e(1), b: e(2) }),
      ]);
      await ensureProjectionSchema(db);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = 'source'`, [TABLE]);
      assert.equal(rows[0]!.n, 1);
      assert.deepEqual((await read('old')).fieldSources, { a: e(1), b: e(2) });
      await inBatch(async (docs) => docs.collection('things').patch('old', { b: 3 }, e(3)));
      assert.deepEqual((await read('old')).fieldSources, { a: e(1), b: e(3) });
    });
  });
}
