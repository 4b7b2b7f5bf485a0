import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPgliteDatabase, eventLoopTurns, PGLITE_MAX_TURN_MS, type SqlDatabase } from './sql/database.ts';

/**
 * PGlite settles its statements as microtasks: without a turn of the event loop between them, a
 * background loop of statements (the hash chain of a freshly seeded city) kept the graph from reading
 * any request until it was done.
 */
describe('statements on the embedded store let the event loop turn', () => {
  let db: SqlDatabase;
  before(async () => {
    db = await createPgliteDatabase();
    await db.exec('CREATE TABLE busy (n int)');
    // Warm: PGlite's first statements are compiled as they run and take far longer than a turn.
    for (let i = 0; i < 300; i++) await db.query('SELECT count(*) FROM busy');
  });
  after(() => db.close());

  /** Runs statements through `run` until `done()` or `limitMs`; returns how long it ran. */
  async function busyLoop(run: () => Promise<unknown>, done: () => boolean, limitMs: number): Promise<number> {
    const started = performance.now();
    while (!done() && performance.now() - started < limitMs) await run();
    return performance.now() - started;
  }

  it('answers an HTTP request while a loop of statements, transactions and scripts runs', async () => {
    const server = createServer((_req, res) => res.end('answered'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      let answer: string | undefined;
      const asking = fetch(`http://127.0.0.1:${port}/`).then(async (res) => (answer = await res.text()));
      let step = 0;
      const statements = [
        () => db.query('SELECT count(*) FROM busy'),
        () => db.transaction((tx) => tx.query('INSERT INTO busy VALUES (1)')),
        () => db.exec('DELETE FROM busy WHERE n = 2'),
      ];
      const ranMs = await busyLoop(() => statements[step++ % statements.length]!(), () => answer !== undefined, 5000);
      await asking;
      assert.equal(answer, 'answered');
      // Without the turns the request is only read once the loop gives up, 5 s on.
      assert.ok(ranMs < 2000, `the request was answered only after ${Math.round(ranMs)} ms of statements`);
      assert.ok(step > 3, 'the loop ran statements before the answer');
    } finally {
      server.close();
    }
  });

  it('fires a timer within a few turns of the limit, not after the loop', async () => {
    let firedAfterMs: number | undefined;
    const started = performance.now();
    setTimeout(() => (firedAfterMs = performance.now() - started), 0);
    await busyLoop(() => db.query('SELECT count(*) FROM busy'), () => firedAfterMs !== undefined, 3000);
    assert.ok(firedAfterMs !== undefined && firedAfterMs < 20 * PGLITE_MAX_TURN_MS, `the timer fired after ${firedAfterMs} ms`);
  });
});

describe('eventLoopTurns', () => {
  it('waits no turn while the loop is not held, and one once it has been held past the limit', async () => {
    const turn = eventLoopTurns(5);
    assert.equal(turn(), undefined, 'the first statement of a turn');
    assert.equal(turn(), undefined, 'within the limit');
    const held = performance.now();
    while (performance.now() - held < 10);
    const waiting = turn();
    assert.ok(waiting instanceof Promise, 'held past the limit: one turn');
    await waiting;
    assert.equal(turn(), undefined, 'after the turn the limit starts again');
  });
});
