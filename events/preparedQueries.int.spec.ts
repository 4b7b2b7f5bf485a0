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
      const other = backend.connectAgain() ?? db;
      await other.query("UPDATE prepared_probe SET v = NULL WHERE k = 'a'");
      await Promise.all(Array.from({ length: 12 }, async () => assert.deepEqual(await readOn(db, 'a'), [null])));
      await db.query("INSERT INTO prepared_probe VALUES ('b', 'later')");
      assert.deepEqual(await readOn(db, 'b'), ['later']);
      assert.deepEqual(await db.transaction(async (tx) => (await tx.query<{ v: string }>(READ, ['b'], { prepared: true })).rows.map((r) => r.v)), ['later']);
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
