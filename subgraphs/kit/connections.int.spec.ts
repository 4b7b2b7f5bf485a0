/** Connections over a real read-model collection on PGlite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import type { Collection } from '../../projections/types.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { createTestRegistry, incremented } from '../../test/helpers/events.ts';
import { counterProjection, type CounterDoc } from '../../test/helpers/projections.ts';
import { collectionConnection } from './connections.ts';

function connectionSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let store: SqlEventStore;
  let counters: Collection<CounterDoc>;

  const page = (first: number, after: string | null | undefined, list = 'test.counters-by-total') =>
    collectionConnection({ list, collection: counters, where: { total: { gte: 2 } }, sortBy: 'total', first, after, node: (d) => ({ stream: d.id, total: d.doc.total }) });

  before(async () => {
    backend = await makeBackend();
    const db = await backend.fresh();
    store = await SqlEventStore.open(db, createTestRegistry());
    // Twenty counters with totals 0..4, four of each.
    for (let i = 0; i < 20; i++) await store.append(`test.counter-${String(i).padStart(2, '0')}`, Array.from({ length: i % 5 }, () => incremented(1)).concat(i % 5 === 0 ? [incremented(0)] : []));
    await new ProjectionRunner(db, store, [counterProjection()]).catchUp();
    counters = new SqlReadModels(db, 0).of('test.counters').collection<CounterDoc>('counters');
  });
  after(async () => {
    await store.close();
    await backend.dispose();
  });

  it('pages in sort order with keyset cursors, each row once, and counts the whole list', async () => {
    const seen: { stream: string; total: number }[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const connection = await page(5, after);
      assert.equal(await connection.totalCount(), 12);
      assert.equal(connection.pageInfo.hasPreviousPage, after !== null);
      seen.push(...connection.edges.map((e) => e.node));
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
      pages++;
    } while (after);
    assert.equal(pages, 3);
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen.map((s) => s.stream)).size, 12);
    const sorted = [...seen].sort((a, b) => a.total - b.total || (a.stream < b.stream ? -1 : 1));
    assert.deepEqual(seen, sorted);
    assert.ok(seen.every((s) => s.total >= 2));
  });

  it('never serves a row twice when rows change between pages', async () => {
    const first = await page(6, null);
    await store.append('test.counter-00', [incremented(2)]);
    await store.append('test.counter-99', [incremented(1)]);
    const rest = await page(100, first.pageInfo.endCursor);
    const streams = [...first.edges, ...rest.edges].map((e) => e.node.stream);
    assert.equal(new Set(streams).size, streams.length);
  });

  it('refuses cursors of another list, or that this service did not issue, with BAD_USER_INPUT', async () => {
    const foreign = (await page(1, null, 'test.other-list')).pageInfo.endCursor;
    await assert.rejects(page(5, foreign), (e: unknown) => e instanceof ValidationError && /belongs to another list/.test(e.message));
    await assert.rejects(page(5, 'x'), /not a cursor this service issued/);
    const wrappedGarbage = Buffer.from(JSON.stringify(['test.counters-by-total', 'not-a-store-cursor'])).toString('base64url');
    await assert.rejects(page(5, wrappedGarbage), (e: unknown) => e instanceof ValidationError);
    await assert.rejects(page(101, null), /at most 100/);
  });
}

for (const makeBackend of BACKENDS) describe(`collection connections on ${makeBackend.name.replace('Backend', '')}`, () => connectionSuite(makeBackend));
