import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPgliteDatabase } from './sql/database.ts';
import { emptyClusterTarball } from './sql/pgliteTemplate.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a new PGlite store is unpacked from the ready-made empty cluster', () => {
  it('starts empty every time: what one store wrote is in no later one', async () => {
    const first = await createPgliteDatabase();
    try {
      await first.exec('CREATE TABLE written_by_first (a int); INSERT INTO written_by_first VALUES (1)');
    } finally {
      await first.close();
    }
    const second = await createPgliteDatabase();
    try {
      const { rows } = await second.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      assert.equal(rows[0]!.n, 0);
      // A working cluster, not only a readable one: a transaction commits and rolls back.
      await second.exec('CREATE TABLE t (a int)');
      await assert.rejects(second.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        throw new Error('roll back');
      }));
      await second.transaction((tx) => tx.query('INSERT INTO t VALUES (2)'));
      assert.deepEqual((await second.query('SELECT a FROM t')).rows, [{ a: 2 }]);
    } finally {
      await second.close();
    }
  });

  it('unpacks into an empty data directory, and a data directory that holds a cluster is opened as it is', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cb-pglite-template-'));
    dirs.push(parent);
    const dataDir = join(parent, 'pglite');
    const created = await createPgliteDatabase(dataDir);
    try {
      await created.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (42)');
    } finally {
      await created.close();
    }
    assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
    const reopened = await createPgliteDatabase(dataDir);
    try {
      assert.deepEqual((await reopened.query('SELECT a FROM kept')).rows, [{ a: 42 }]);
    } finally {
      await reopened.close();
    }
  });

  it('is made once and then served from the cache: one tarball for the process', async () => {
    const [a, b] = await Promise.all([emptyClusterTarball(), emptyClusterTarball()]);
    assert.equal(a, b);
    assert.ok(a.size > 1_000_000, `a whole cluster, not ${a.size} bytes`);
  });
});
