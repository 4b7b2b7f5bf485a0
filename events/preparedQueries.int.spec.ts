import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SqlDatabase } from './sql/database.ts';
import { BACKENDS } from '../test/helpers/databases.ts';
import { backendForSuite } from '../test/helpers/suiteBackend.ts';

// A prepared statement keeps its plan, never its rows: a read after a change (another connection's
// erasure of a key, say) must see it, and the plan must follow the tables it names when they are
// dropped and created again (tests and benches reset the schema under a live pool).
for (const openBackend of BACKENDS) {
  describe('prepared queries', () => {
    const backend = backendForSuite(openBackend);

    const READ = 'SELECT v FROM prepared_probe WHERE k = $1';
    const readOn = async (db: SqlDatabase, k: string) => (await db.query<{ v: string | null }>(READ, [k], { prepared: true })).rows.map((r) => r.v);

    it('reads afresh on every call: a change made meanwhile, by this connection or another, shows at the next call', async () => {
      const db = await backend.fresh();
      await db.exec('CREATE TABLE prepared_probe (k text PRIMARY KEY, v text)');
      await db.query("INSERT INTO prepared_probe VALUES ('a', 'key')");
      // Every connection of the pool prepares it: run it more often than the pool has connections, beyond the engine's custom-plan runs.
      for (let i = 0; i < 20; i++) assert.deepEqual(await readOn(db, 'a'), ['key']);
      // PGlite is one session: the statement is prepared in it, once.
      if (db.backend === 'pglite') assert.deepEqual((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE $1', [`%${READ}`])).rows, [{ n: 1 }]);
      const other = backend.connectAgain() ?? db;
      await other.query("UPDATE prepared_probe SET v = NULL WHERE k = 'a'");
      await Promise.all(Array.from({ length: 12 }, async () => assert.deepEqual(await readOn(db, 'a'), [null])));
      await db.query("INSERT INTO prepared_probe VALUES ('b', 'later')");
      assert.deepEqual(await readOn(db, 'b'), ['later']);
      assert.deepEqual(await db.transaction(async (tx) => (await tx.query<{ v: string }>(READ, ['b'], { prepared: true })).rows.map((r) => r.v)), ['later']);
    });

    it('takes every parameter as a value, never as SQL: quotes, backslashes and statements in a string or an array element, a null, a number', async () => {
      const db = await backend.fresh();
      await db.exec('CREATE TABLE prepared_probe (k text PRIMARY KEY, v text)');
      const hostile = ["a'b", 'c\\d', "x'); DROP TABLE prepared_probe; --", "e\\'); SELECT ('", '王 $1 $$ "q"', 'f"g,{h}\\"', 'NULL', ''];
      for (const k of hostile) await db.query('INSERT INTO prepared_probe VALUES ($1, $1)', [k]);
      for (const k of hostile) assert.deepEqual(await readOn(db, k), [k]);
      const BY = 'SELECT k FROM prepared_probe WHERE ($1::text IS NULL OR k = $1) AND length(k) >= $2 AND ($3::text[] IS NULL OR k = ANY($3)) ORDER BY k';
      const by = async (k: string | null, min: number, any: (string | null)[] | null) => (await db.query<{ k: string }>(BY, [k, min, any], { prepared: true })).rows.map((r) => r.k);
      assert.deepEqual(await by(null, 0, null), [...hostile].sort());
      assert.deepEqual(await by("a'b", 3, null), ["a'b"]);
      assert.deepEqual(await by(null, 30, null), ["x'); DROP TABLE prepared_probe; --"]);
      assert.deepEqual(await by(null, 0, ["a'b", 'c\\d']), ["a'b", 'c\\d']);
      // An array's elements too: quotes, backslashes, commas and braces inside one, the string NULL, a null, the empty string.
      assert.deepEqual(await by(null, 0, ['f"g,{h}\\"', 'NULL', '']), ['', 'NULL', 'f"g,{h}\\"']);
      assert.deepEqual(await by(null, 0, [null, 'NULL']), ['NULL']);
    });

    it('gives a text whose table does not exist yet its own error, and prepares it once the table is there', async () => {
      const db = await backend.fresh();
      await assert.rejects(readOn(db, 'a'), /prepared_probe/);
      await db.exec('CREATE TABLE prepared_probe (k text PRIMARY KEY, v text)');
      await db.query("INSERT INTO prepared_probe VALUES ('a', 'now')");
      for (let i = 0; i < 3; i++) assert.deepEqual(await readOn(db, 'a'), ['now']);
    });

    it('reads the table created again after a schema reset, not the dropped one', async () => {
      const db = await backend.fresh();
      await db.exec('CREATE TABLE prepared_probe (k text PRIMARY KEY, v text)');
      await db.query("INSERT INTO prepared_probe VALUES ('a', 'before')");
      for (let i = 0; i < 20; i++) assert.deepEqual(await readOn(db, 'a'), ['before']);
      await backend.fresh();
      await db.exec('CREATE TABLE prepared_probe (k text PRIMARY KEY, v text)');
      await db.query("INSERT INTO prepared_probe VALUES ('a', 'after')");
      await Promise.all(Array.from({ length: 12 }, async () => assert.deepEqual(await readOn(db, 'a'), ['after'])));
    });
  });
}
